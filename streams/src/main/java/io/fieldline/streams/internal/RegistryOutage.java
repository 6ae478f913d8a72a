package io.fieldline.streams.internal;

import io.fieldline.streams.registry.RegistryUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * How the pipeline rides out a schema-registry outage: a record that cannot be decoded because the registry does not
 * answer is retried, never rejected. {@link #call} retries with capped exponential back-off for up to
 * {@code blockPerRecord} on the stream thread (well under Kafka's max.poll.interval.ms), then lets the
 * {@link RegistryUnavailableException} end the stream thread without committing past the record; the pipeline's
 * exception handler replaces the thread, which re-reads the record from the last commit (exactly-once: the aborted
 * transaction leaves nothing behind) and waits again. Once the registry has been unreachable for {@code maxWait} in a
 * row, the handler stops the client instead: an operator must look (fail loudly, never dead-letter a good request).
 */
public final class RegistryOutage {
  private static final System.Logger LOG = System.getLogger(RegistryOutage.class.getName());
  private static final long FIRST_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 5_000;

  /** Sleeping, injectable so tests do not wait. */
  public interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final InstantSource clock;
  private final Sleeper sleeper;
  private final Duration blockPerRecord;
  private final Duration maxWait;
  private final LongAdder retries = new LongAdder();
  private final AtomicInteger waiting = new AtomicInteger();
  private volatile Instant since;
  private volatile boolean stopping;

  public RegistryOutage(InstantSource clock, Sleeper sleeper, Duration blockPerRecord, Duration maxWait) {
    this.clock = clock;
    this.sleeper = sleeper;
    this.blockPerRecord = blockPerRecord;
    this.maxWait = maxWait;
  }

  /**
   * Runs {@code action}, retrying it while the registry is unavailable, for up to {@code blockPerRecord}.
   *
   * @throws RegistryUnavailableException when the registry is still unavailable after that
   */
  public <T> T call(Supplier<T> action) {
    return callFor(blockPerRecord, action);
  }

  /**
   * A deserializer that waits out a registry outage for the whole {@code maxWait} on its calling thread, for the
   * global stores (cancellations, statuses). Kafka Streams cannot replace its global thread the way it replaces a
   * stream thread, so the back-off-then-replace cycle of {@link #call} would stop the client at the first outage that
   * meets a schema id new to this instance; the global consumer is in no group, so blocking it breaks no poll
   * deadline. A record that is bad (anything but an unavailable registry) fails at once, as before.
   */
  public <T> org.apache.kafka.common.serialization.Deserializer<T> patient(
      org.apache.kafka.common.serialization.Deserializer<T> inner) {
    return new org.apache.kafka.common.serialization.Deserializer<>() {
      @Override
      public T deserialize(String topic, byte[] data) {
        return callFor(maxWait, () -> inner.deserialize(topic, data));
      }

      @Override
      public void close() {
        inner.close();
      }
    };
  }

  private <T> T callFor(Duration limit, Supplier<T> action) {
    Instant start = clock.instant();
    long backoff = FIRST_BACKOFF_MS;
    waiting.incrementAndGet();
    try {
      while (true) {
        try {
          T value = action.get();
          ended();
          return value;
        } catch (RegistryUnavailableException e) {
          Instant now = clock.instant();
          if (since == null) {
            since = now;
            LOG.log(System.Logger.Level.WARNING, "schema registry unavailable; waiting for it (the record is not "
                + "rejected; giving up after " + maxWait + "): " + e.getMessage());
          }
          if (stopping || Duration.between(start, now).compareTo(limit) >= 0) {
            throw e;
          }
          retries.increment();
          try {
            sleeper.sleep(Duration.ofMillis(backoff));
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw e;
          }
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        } catch (RuntimeException e) {
          ended(); // the registry answered (the record was bad): the outage is over either way
          throw e;
        }
      }
    } finally {
      waiting.decrementAndGet();
    }
  }

  private void ended() {
    Instant first = since;
    if (first != null) {
      LOG.log(System.Logger.Level.INFO, "schema registry answers again after "
          + Duration.between(first, clock.instant()).toSeconds() + " s; processing goes on");
      since = null;
    }
  }

  /**
   * What the stream thread's exception handler should do with {@code error}: true to replace the thread (a registry
   * outage still within {@code maxWait}: the record is retried), false to stop (anything else, or an outage that
   * lasted too long).
   */
  public boolean shouldRetry(Throwable error) {
    if (!RegistryUnavailableException.isCause(error)) {
      return false;
    }
    // Kafka Streams' own deserializers (samples, progress) fail here without passing call(): start the clock now.
    Instant now = clock.instant();
    if (since == null) {
      since = now;
    }
    Instant first = since;
    boolean within = Duration.between(first, now).compareTo(maxWait) < 0;
    if (within) {
      try {
        sleeper.sleep(blockPerRecord.isZero() ? Duration.ZERO : Duration.ofSeconds(1)); // no hot replacement loop
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (!within) {
      LOG.log(System.Logger.Level.ERROR, "schema registry unavailable for over " + maxWait + "; stopping (no request "
          + "was rejected or lost: unprocessed records stay in their topics for the next start)");
    }
    return within;
  }

  /**
   * Ends every wait at its next retry: the pipeline is shutting down, and a thread waiting out an outage (the global
   * one can wait the whole {@code maxWait}) must not hold the close up. The record stays uncommitted for the next
   * start.
   */
  public void stop() {
    stopping = true;
  }

  /** Retries so far (a counter for metrics). */
  public long retries() {
    return retries.sum();
  }

  /** Stream threads waiting for the registry now (a gauge for metrics). */
  public int waiting() {
    return waiting.get();
  }
}

package io.fieldline.streams.internal;

import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.ProcessorContext;

/**
 * Commits asked for ahead of the commit interval, where waiting would batch nothing and only delay readers, at most one
 * per {@link #MIN_GAP}: while a burst of records is processed the condition that asks (idle engines, say) can hold for
 * every record, and a transaction per record would cost more than the latency it saves.
 */
final class EarlyCommit {
  /** Kafka Streams' own commit interval under exactly-once. */
  static final Duration MIN_GAP = Duration.ofMillis(100);
  private Instant last = Instant.MIN;

  /** Asks {@code context} to commit if the last commit asked for here is at least {@link #MIN_GAP} old. */
  void request(ProcessorContext<?, ?> context, Instant now) {
    if (!now.isBefore(last.plus(MIN_GAP))) {
      last = now;
      context.commit();
    }
  }
}

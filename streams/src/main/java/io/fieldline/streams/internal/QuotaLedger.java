package io.fieldline.streams.internal;

import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.streams.PipelineLimits;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Unfinished images (accepted, not yet ended) per client and in all, for admission control.
 *
 * <p>Two sources: the status topic, which every instance reads whole through a global store (so each instance sees
 * every request of every instance, and the counts are rebuilt after a restart), and this instance's own acceptances
 * that have not reached the status topic yet (about one commit interval). A request leaves the "own" list when any
 * status of it is observed, or after {@code ownTtl} (its ACCEPTED status was lost with an aborted transaction and the
 * request was re-validated elsewhere).
 *
 * <p>Updates are idempotent per request id (a status replaces the request's previous contribution), so seeing a status
 * twice (restore and reprocessing) does not double-count. Requests without a client id share the client {@code ""}.
 * Thread-safe: the global thread observes, stream threads admit.
 */
public final class QuotaLedger {
  private record Open(String client, long unfinished, Instant since) {}

  private final InstantSource clock;
  private final Duration ownTtl;
  private final Map<String, Open> seen = new HashMap<>();
  private final LinkedHashMap<String, Open> own = new LinkedHashMap<>(); // insertion order = age
  private final Map<String, Long> byClient = new HashMap<>();
  private long total;

  public QuotaLedger(InstantSource clock, Duration ownTtl) {
    this.clock = clock;
    this.ownTtl = ownTtl;
  }

  /** Images a status says are still to come: 0 for a final state. */
  static long imagesToCome(GenerationStatus s) {
    return switch (s.getState()) {
      case ACCEPTED, RUNNING -> Math.max(0, s.getTotal() - s.getDone() - s.getFailed());
      default -> 0;
    };
  }

  /** Whether a status is the last of its request. */
  static boolean isFinal(GenerationStatus s) {
    return s.getState() != RequestState.ACCEPTED && s.getState() != RequestState.RUNNING;
  }

  /** Takes in a status from the status topic. */
  public synchronized void observe(GenerationStatus s) {
    String id = s.getRequestId();
    subtract(own.remove(id));
    subtract(seen.remove(id));
    long n = imagesToCome(s);
    if (n > 0) {
      Open o = new Open(client(s.getClientId()), n, clock.instant());
      seen.put(id, o);
      add(o);
    }
  }

  /** Forgets a request (its status record was deleted). */
  public synchronized void forget(String requestId) {
    subtract(own.remove(requestId));
    subtract(seen.remove(requestId));
  }

  /**
   * Admits a request of {@code count} images if both bounds allow it, and counts it at once.
   *
   * @return null if admitted, otherwise the reason (with the numbers) for a REJECTED status
   */
  public synchronized String admit(String requestId, String clientId, int count, PipelineLimits limits) {
    expireOwn();
    if (seen.containsKey(requestId) || own.containsKey(requestId)) {
      return null; // validated again (an aborted transaction retried): already counted
    }
    String client = client(clientId);
    long mine = byClient.getOrDefault(client, 0L);
    if (mine + count > limits.maxQueuedPerClient()) {
      return "client '" + client + "' has " + mine + " unfinished images; " + count + " more would exceed the "
          + "per-client quota of " + limits.maxQueuedPerClient() + " (wait for some to finish, or ask for fewer)";
    }
    if (total + count > limits.maxQueued()) {
      return "the pipeline has " + total + " unfinished images; " + count + " more would exceed its limit of "
          + limits.maxQueued() + " (try again later)";
    }
    Open o = new Open(client, count, clock.instant());
    own.put(requestId, o);
    add(o);
    return null;
  }

  /** Unfinished images in all. */
  public synchronized long unfinished() {
    return total;
  }

  /** Unfinished images of one client (null: requests without a client id). */
  public synchronized long unfinished(String clientId) {
    return byClient.getOrDefault(client(clientId), 0L);
  }

  private void expireOwn() {
    Instant cutoff = clock.instant().minus(ownTtl);
    for (Iterator<Open> it = own.values().iterator(); it.hasNext(); ) {
      Open o = it.next();
      if (!o.since().isBefore(cutoff)) {
        break;
      }
      it.remove();
      subtract(o);
    }
  }

  private void add(Open o) {
    byClient.merge(o.client(), o.unfinished(), Long::sum);
    total += o.unfinished();
  }

  private void subtract(Open o) {
    if (o == null) {
      return;
    }
    byClient.computeIfPresent(o.client(), (c, n) -> n - o.unfinished() <= 0 ? null : n - o.unfinished());
    total -= o.unfinished();
  }

  private static String client(String clientId) {
    return clientId == null ? "" : clientId;
  }
}

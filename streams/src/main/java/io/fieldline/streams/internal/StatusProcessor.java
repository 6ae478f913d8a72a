package io.fieldline.streams.internal;

import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.ProgressEvent;
import io.fieldline.schemas.RequestProgress;
import io.fieldline.schemas.RequestState;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Folds progress events into one status per request: ACCEPTED, then RUNNING with done/total as images end (at most
 * once per {@code progressInterval} per request: the latest counts, not one record per image), then DONE (all images),
 * or FAILED / EXPIRED / CANCELLED when some images ended otherwise (the reason of the last such image is kept).
 * ACCEPTED, REJECTED and final states are emitted at once. A finished request's counts are deleted. Every status
 * carries the request's clientId, from which every instance counts unfinished images per client ({@link QuotaLedger}).
 *
 * <p>Why RUNNING is coalesced: each status record is produced, read back by every instance (quotas) and kept in a
 * global store; one per image was a fixed Kafka cost per image that cheap models felt most.
 */
public final class StatusProcessor implements Processor<String, ProgressEvent, String, GenerationStatus> {
  public static final String PROGRESS_STORE = "request-progress";
  private final Duration progressInterval;
  private final Set<String> progressed = new LinkedHashSet<>();
  private KeyValueStore<String, RequestProgress> store;
  private ProcessorContext<String, GenerationStatus> context;

  /** @param progressInterval how often RUNNING statuses of requests that progressed are emitted (wall clock) */
  public StatusProcessor(Duration progressInterval) {
    this.progressInterval = progressInterval;
  }

  @Override
  public void init(ProcessorContext<String, GenerationStatus> context) {
    this.context = context;
    this.store = context.getStateStore(PROGRESS_STORE);
    context.schedule(progressInterval, PunctuationType.WALL_CLOCK_TIME, this::emitProgress);
  }

  /** Emits RUNNING with the latest counts of every request that progressed since the last call. */
  void emitProgress(long now) {
    for (String id : progressed) {
      RequestProgress p = store.get(id);
      if (p != null) {
        emit(id, RequestState.RUNNING, p.getCompleted(), p.getTotal(), notDone(p), null, now, p.getClientId());
      }
    }
    progressed.clear();
  }

  private static int notDone(RequestProgress p) {
    return p.getFailed() + p.getExpired() + p.getCancelled();
  }

  @Override
  public void process(Record<String, ProgressEvent> record) {
    ProgressEvent e = record.value();
    if (e == null) {
      return;
    }
    String id = e.getRequestId();
    switch (e.getKind()) {
      case REJECTED -> emit(id, RequestState.REJECTED, 0, 0, 0, e.getReason(), e.getAtEpochMs(), e.getClientId());
      case ACCEPTED -> {
        store.put(id, RequestProgress.newBuilder().setTotal(e.getTotal()).setClientId(e.getClientId()).build());
        emit(id, RequestState.ACCEPTED, 0, e.getTotal(), 0, null, e.getAtEpochMs(), e.getClientId());
      }
      default -> {
        RequestProgress p = store.get(id);
        if (p == null) {
          p = RequestProgress.newBuilder().setTotal(e.getTotal()).build(); // ACCEPTED lost to retention: rebuild
        }
        switch (e.getKind()) {
          case COMPLETED -> p.setCompleted(p.getCompleted() + 1);
          case EXPIRED -> p.setExpired(p.getExpired() + 1);
          case CANCELLED -> p.setCancelled(p.getCancelled() + 1);
          default -> p.setFailed(p.getFailed() + 1);
        }
        if (e.getReason() != null) {
          p.setLastReason(e.getReason());
        }
        int notDone = notDone(p);
        int ended = p.getCompleted() + notDone;
        if (ended >= p.getTotal()) {
          RequestState state = notDone == 0 ? RequestState.DONE
              : p.getCancelled() > 0 ? RequestState.CANCELLED
              : p.getExpired() > 0 ? RequestState.EXPIRED : RequestState.FAILED;
          emit(id, state, p.getCompleted(), p.getTotal(), notDone, p.getLastReason(), e.getAtEpochMs(),
              p.getClientId());
          store.delete(id);
          progressed.remove(id);
        } else {
          store.put(id, p);
          progressed.add(id);
        }
      }
    }
  }

  private void emit(String id, RequestState state, int done, int total, int failed, String reason, long at,
      String clientId) {
    context.forward(new Record<>(id, GenerationStatus.newBuilder().setRequestId(id).setState(state).setDone(done)
        .setTotal(total).setFailed(failed).setReason(reason).setUpdatedAtEpochMs(at).setClientId(clientId).build(),
        at));
  }
}

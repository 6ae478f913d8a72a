package io.fieldline.streams.internal;

import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.ProgressEvent;
import io.fieldline.schemas.RequestProgress;
import io.fieldline.schemas.RequestState;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Folds progress events into one status per request: ACCEPTED, then RUNNING with done/total after each image, then
 * DONE (all images), or FAILED / EXPIRED / CANCELLED when some images ended otherwise (the reason of the last such
 * image is kept). REJECTED requests get their status at once. A finished request's counts are deleted. Every status
 * carries the request's clientId, from which every instance counts unfinished images per client ({@link QuotaLedger}).
 */
public final class StatusProcessor implements Processor<String, ProgressEvent, String, GenerationStatus> {
  public static final String PROGRESS_STORE = "request-progress";
  private KeyValueStore<String, RequestProgress> store;
  private ProcessorContext<String, GenerationStatus> context;

  @Override
  public void init(ProcessorContext<String, GenerationStatus> context) {
    this.context = context;
    this.store = context.getStateStore(PROGRESS_STORE);
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
        int ended = p.getCompleted() + p.getFailed() + p.getExpired() + p.getCancelled();
        int notDone = p.getFailed() + p.getExpired() + p.getCancelled();
        if (ended >= p.getTotal()) {
          RequestState state = notDone == 0 ? RequestState.DONE
              : p.getCancelled() > 0 ? RequestState.CANCELLED
              : p.getExpired() > 0 ? RequestState.EXPIRED : RequestState.FAILED;
          emit(id, state, p.getCompleted(), p.getTotal(), notDone, p.getLastReason(), e.getAtEpochMs(),
              p.getClientId());
          store.delete(id);
        } else {
          store.put(id, p);
          emit(id, RequestState.RUNNING, p.getCompleted(), p.getTotal(), notDone, null, e.getAtEpochMs(),
              p.getClientId());
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

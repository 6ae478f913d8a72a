package io.fieldline.streams.internal;

import io.fieldline.schemas.CancelRequest;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * Keeps the global store of cancelled request ids, which every instance's generators consult, and counts the
 * cancellations it has seen, so generators look through their in-flight samples only after a new one.
 */
public final class CancellationUpdater implements Processor<String, CancelRequest, Void, Void> {
  private final AtomicLong seen;
  private TimestampedKeyValueStore<String, CancelRequest> store;

  public CancellationUpdater(AtomicLong seen) {
    this.seen = seen;
  }

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    store = context.getStateStore(GeneratorProcessor.CANCELLATIONS_STORE);
  }

  @Override
  public void process(Record<String, CancelRequest> record) {
    if (record.key() == null) {
      return;
    }
    if (record.value() == null) {
      store.delete(record.key());
    } else {
      store.put(record.key(), ValueAndTimestamp.make(record.value(), record.timestamp()));
      seen.incrementAndGet();
    }
  }
}

package io.fieldline.streams.internal;

import io.fieldline.schemas.CancelRequest;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/** Keeps the global store of cancelled request ids, which every instance's generators consult. */
public final class CancellationUpdater implements Processor<String, CancelRequest, Void, Void> {
  private TimestampedKeyValueStore<String, CancelRequest> store;

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
    }
  }
}

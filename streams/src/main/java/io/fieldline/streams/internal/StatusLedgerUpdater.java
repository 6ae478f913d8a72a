package io.fieldline.streams.internal;

import io.fieldline.schemas.GenerationStatus;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the global store of unfinished requests (from the status topic) and feeds the {@link QuotaLedger}. The store
 * holds only requests that are not final; on start it is scanned (a restore may have written final statuses straight
 * from the topic) and the ledger rebuilt from it.
 */
public final class StatusLedgerUpdater implements Processor<String, GenerationStatus, Void, Void> {
  public static final String OPEN_REQUESTS_STORE = "open-requests";

  private final QuotaLedger ledger;
  private KeyValueStore<String, GenerationStatus> store;

  public StatusLedgerUpdater(QuotaLedger ledger) {
    this.ledger = ledger;
  }

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    store = context.getStateStore(OPEN_REQUESTS_STORE);
    List<String> finished = new ArrayList<>();
    try (KeyValueIterator<String, GenerationStatus> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<String, GenerationStatus> kv = it.next();
        if (kv.value == null || QuotaLedger.isFinal(kv.value)) {
          finished.add(kv.key);
        } else {
          ledger.observe(kv.value);
        }
      }
    }
    finished.forEach(store::delete);
  }

  @Override
  public void process(Record<String, GenerationStatus> record) {
    if (record.key() == null) {
      return;
    }
    GenerationStatus s = record.value();
    if (s == null || QuotaLedger.isFinal(s)) {
      if (s == null) {
        ledger.forget(record.key());
      } else {
        ledger.observe(s);
      }
      store.delete(record.key());
    } else {
      ledger.observe(s);
      store.put(record.key(), s);
    }
  }
}

package io.fieldline.streams.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.ProgressEvent;
import io.fieldline.schemas.ProgressKind;
import io.fieldline.schemas.RequestProgress;
import io.fieldline.schemas.RequestState;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Status folding on Kafka Streams' mock context: RUNNING coalesced per interval, everything else at once. */
class StatusProcessorTest {
  private final MockProcessorContext<String, GenerationStatus> context = new MockProcessorContext<>();
  private final StatusProcessor processor = new StatusProcessor(Duration.ofMillis(100));

  @BeforeEach
  void setUp() {
    KeyValueStore<String, RequestProgress> store = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore(StatusProcessor.PROGRESS_STORE), Serdes.String(),
        new BinarySerde<>(RequestProgress.class)).withLoggingDisabled().build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    processor.init(context);
  }

  private void event(String id, ProgressKind kind, int index, int total, String client) {
    ProgressEvent e = ProgressEvent.newBuilder().setRequestId(id).setKind(kind).setIndex(index).setTotal(total)
        .setAtEpochMs(1).setClientId(client).build();
    processor.process(new Record<>(id, e, 1));
  }

  private List<GenerationStatus> emitted() {
    List<GenerationStatus> out = context.forwarded().stream().map(f -> (GenerationStatus) f.record().value())
        .toList();
    context.resetForwards();
    return out;
  }

  private void punctuate() {
    context.scheduledPunctuators().get(0).getPunctuator().punctuate(2);
  }

  @Test
  void shouldEmitTheLatestCountsOncePerIntervalWhileImagesEnd() {
    event("r", ProgressKind.ACCEPTED, -1, 4, "alice");
    assertEquals(RequestState.ACCEPTED, emitted().get(0).getState(), "ACCEPTED at once");
    event("r", ProgressKind.COMPLETED, 0, 4, null);
    event("r", ProgressKind.COMPLETED, 1, 4, null);
    assertTrue(emitted().isEmpty(), "no record per image");
    punctuate();
    List<GenerationStatus> running = emitted();
    assertEquals(1, running.size());
    assertEquals(RequestState.RUNNING, running.get(0).getState());
    assertEquals(2, running.get(0).getDone());
    assertEquals(4, running.get(0).getTotal());
    assertEquals("alice", running.get(0).getClientId(), "the client travels with every status (quotas)");
    punctuate();
    assertTrue(emitted().isEmpty(), "nothing new, nothing sent");
    event("r", ProgressKind.EXPIRED, 2, 4, null);
    event("r", ProgressKind.COMPLETED, 3, 4, null);
    List<GenerationStatus> last = emitted();
    assertEquals(RequestState.EXPIRED, last.get(0).getState(), "the final state at once");
    assertEquals(3, last.get(0).getDone());
    assertEquals(1, last.get(0).getFailed());
    punctuate();
    assertTrue(emitted().isEmpty(), "no RUNNING after the end");
  }

  @Test
  void shouldRejectAtOnce() {
    event("bad", ProgressKind.REJECTED, -1, 0, "bob");
    GenerationStatus s = emitted().get(0);
    assertEquals(RequestState.REJECTED, s.getState());
    assertEquals("bob", s.getClientId());
  }
}

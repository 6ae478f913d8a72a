package io.fieldline.streams.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.core.engine.FakeClock;
import io.fieldline.schemas.CancelRequest;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.SampleTask;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.server.ModelCatalog;
import io.fieldline.server.ModelLoader;
import io.fieldline.streams.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generator alone, on a mock context with in-memory stores and hand-stepped engines: when it asks to commit. */
class GeneratorProcessorTest {
  @TempDir
  Path dir;

  private final FakeClock clock = new FakeClock();
  private final MockProcessorContext<String, Object> context = new MockProcessorContext<>();
  private ModelCatalog catalog;
  private DeviceEngines engines;
  private GeneratorProcessor generator;

  @BeforeEach
  void setUp() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("tiny.idx"), 6, 4, 4, 1, false);
    catalog = ModelCatalog.builder().optAlias("tiny", "exact:" + data)
        .optLoader(ModelLoader.builder().optExactSize(6).build()).build();
    catalog.loadAliases();
    engines = new DeviceEngines(catalog, "cpu", 64, 1000, 1, clock, false, new PipelineMetrics(new SimpleMeterRegistry()));
    engines.prepare(catalog.resolve("tiny", null).orElseThrow()); // ready at the first sample: no waiting to load
    KeyValueStore<String, SampleTask> pending = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore(GeneratorProcessor.PENDING_STORE), Serdes.String(),
        new BinarySerde<>(SampleTask.class)).withLoggingDisabled().build();
    pending.init(context.getStateStoreContext(), pending);
    context.addStateStore(pending);
    TimestampedKeyValueStore<String, CancelRequest> cancellations = Stores.timestampedKeyValueStoreBuilder(
        Stores.inMemoryKeyValueStore(GeneratorProcessor.CANCELLATIONS_STORE), Serdes.String(),
        new BinarySerde<>(CancelRequest.class)).withLoggingDisabled().build();
    cancellations.init(context.getStateStoreContext(), cancellations);
    context.addStateStore(cancellations);
    generator = new GeneratorProcessor(catalog, engines, clock, Duration.ofMillis(50), new AtomicLong());
    generator.init(context);
  }

  @AfterEach
  void tearDown() {
    generator.close();
    engines.close();
    catalog.close();
  }

  private void submit(String requestId, int index) {
    String version = catalog.resolve("tiny", null).orElseThrow().version();
    SampleTask task = SampleTask.newBuilder().setRequestId(requestId).setIndex(index).setTotal(2).setSeed(7)
        .setModel("tiny").setModelVersion(version)
        .setSampler(SamplerSpec.newBuilder().setSolver("euler").setSteps(2).setRtol(1e-4).setAtol(1e-4).setGuidance(1.0).build())
        .setAcceptedAtEpochMs(clock.instant().toEpochMilli()).build();
    generator.process(new Record<>(requestId + "/" + index, task, clock.instant().toEpochMilli()));
  }

  private long imagesForwarded() {
    return context.forwarded().stream().filter(f -> f.record().value() instanceof GeneratedImage).count();
  }

  @Test
  void shouldAskToCommitAtOnceWhenItsLastSampleInFlightHasEnded() {
    submit("r", 0);
    submit("r", 1);
    engines.runUntilIdle();
    generator.drain();
    assertEquals(2, imagesForwarded());
    assertTrue(context.committed(), "nothing else in flight: the images need not wait out the commit interval");
  }

  @Test
  void shouldLeaveCommitsToTheIntervalWhileSamplesAreStillInFlight() {
    submit("r", 0);
    engines.runUntilIdle();
    submit("r", 1); // queued, not run
    generator.drain();
    assertEquals(1, imagesForwarded());
    assertFalse(context.committed(), "another sample is in flight: the commit interval batches");
    engines.runUntilIdle();
    clock.advance(EarlyCommit.MIN_GAP);
    generator.drain();
    assertEquals(2, imagesForwarded());
    assertTrue(context.committed());
  }

  @Test
  void shouldReportTheEnginesIdleOnlyWhenNoSampleWaitsOrRuns() {
    assertTrue(engines.idle());
    submit("r", 0);
    assertFalse(engines.idle(), "a sample waits");
    engines.runUntilIdle();
    assertTrue(engines.idle());
  }

  @Test
  void shouldNotAskToCommitWhenNothingEnded() {
    generator.drain();
    assertFalse(context.committed());
  }
}

package io.fieldline.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.ExactField;
import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GenerationEngineTest {
  private static final int N = 12;
  private final FakeClock clock = new FakeClock();

  private static ExactField field(Physics physics) {
    Random random = new Random(5);
    double[][] data = new double[6][N];
    for (double[] p : data) {
      for (int i = 0; i < N; i++) {
        p[i] = 2 * random.nextDouble() - 1;
      }
    }
    return ExactField.builder().setData(data).setPhysics(physics).setShape(new ImageShape(1, 3, 4)).build();
  }

  private static final PfgmPhysics PFGM = new PfgmPhysics(N, 40, 1e-3, 3000, 5, 0);

  /** Records batch sizes and can be told to fail. */
  private static class RecordingModel implements FieldModel {
    final FieldModel inner;
    final List<Integer> batchSizes = new ArrayList<>();
    boolean failNext;
    int perCall = 1;

    RecordingModel(FieldModel inner) {
      this.inner = inner;
    }

    @Override
    public int rowsPerCall() {
      return perCall;
    }

    @Override
    public String name() {
      return "recording";
    }

    @Override
    public Physics physics() {
      return inner.physics();
    }

    @Override
    public ImageShape shape() {
      return inner.shape();
    }

    @Override
    public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
      batchSizes.add(count);
      if (failNext) {
        failNext = false;
        throw new IllegalStateException("device lost");
      }
      inner.evaluate(x, cond, out, count);
    }
  }

  private GenerationEngine engine(FieldModel model, int maxBatch) {
    return GenerationEngine.builder().setModel(model).optMaxBatchSize(maxBatch).optClock(clock).build();
  }

  private static void drain(GenerationEngine engine) {
    int guard = 0;
    while (engine.runOnce() > 0) {
      assertTrue(++guard < 1_000_000);
    }
  }

  @Test
  void shouldGiveBitwiseTheSameSampleAloneAndInsideAMixedBatch() {
    ExactField model = field(PFGM);
    SamplerSettings rk45 = SamplerSettings.rk45();
    double[] alone = Flows.sample(model, rk45, 2024, 5).x();

    GenerationEngine engine = engine(model, 64);
    List<SampleHandle> others = new ArrayList<>();
    SamplerSettings[] mix = {SamplerSettings.fixed(Solver.EULER, 10), SamplerSettings.fixed(Solver.HEUN, 7),
        SamplerSettings.rk45(1e-3), SamplerSettings.fixed(Solver.EULER, 33), SamplerSettings.rk45(1e-6)};
    for (int i = 0; i < 40; i++) {
      others.add(engine.submit(SampleTask.of("other-" + (i % 9), i, 1000 + i, mix[i % mix.length])));
    }
    SampleHandle target = engine.submit(SampleTask.of("target", 5, 2024, rk45));
    for (int i = 40; i < 63; i++) {
      others.add(engine.submit(SampleTask.of("late-" + i, i, 77, mix[i % mix.length])));
    }
    drain(engine);
    SampleResult result = target.result().getNow(null);
    assertEquals(SampleStatus.COMPLETED, result.status());
    assertArrayEquals(alone, result.x(), "bitwise identical");
    for (SampleHandle h : others) {
      assertEquals(SampleStatus.COMPLETED, h.result().getNow(null).status());
    }
    assertEquals(64, engine.stats().largestBatch(), "the samples really shared forward passes");
  }

  @Test
  void shouldGiveTheSameSamplesForPfgmppAloneAndBatched() {
    ExactField model = field(PfgmppPhysics.edmDefaults(N, 128));
    SamplerSettings edm = SamplerSettings.fixed(Solver.HEUN, 18);
    GenerationEngine engine = engine(model, 8);
    List<SampleHandle> handles = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      handles.add(engine.submit(SampleTask.of("r", i, 9, i % 2 == 0 ? edm : SamplerSettings.rk45())));
    }
    drain(engine);
    for (SampleHandle h : handles) {
      SampleResult r = h.result().getNow(null);
      assertArrayEquals(Flows.sample(model, h.task().settings(), 9, h.task().index()).x(), r.x());
      if (h.task().settings().solver() == Solver.HEUN) {
        assertEquals(35, r.nfe());
      }
    }
  }

  @Test
  void shouldNeverExceedMaxBatchSizeAndFinishEverySample() {
    RecordingModel model = new RecordingModel(field(PFGM));
    GenerationEngine engine = engine(model, 16);
    List<SampleHandle> handles = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      handles.add(engine.submit(SampleTask.of("r" + (i % 7), i, 3, SamplerSettings.fixed(Solver.EULER, 5 + i % 11))));
    }
    drain(engine);
    assertTrue(model.batchSizes.stream().allMatch(s -> s >= 1 && s <= 16));
    assertEquals(16, engine.stats().largestBatch());
    for (SampleHandle h : handles) {
      SampleResult r = h.result().getNow(null);
      assertEquals(SampleStatus.COMPLETED, r.status());
      assertEquals(5 + h.task().index() % 11, r.nfe());
    }
    assertEquals(150, engine.stats().completed());
    // Exact NFE accounting: every row evaluated belongs to exactly one sample-step.
    long nfe = handles.stream().mapToLong(h -> h.result().getNow(null).nfe()).sum();
    assertEquals(nfe, model.batchSizes.stream().mapToLong(Integer::longValue).sum());
  }

  @Test
  void shouldRunWholeCallsWhileItsSamplesDoNotFillABatch() {
    RecordingModel model = new RecordingModel(field(PFGM));
    model.perCall = 4;
    GenerationEngine engine = engine(model, 16);
    List<SampleHandle> handles = new ArrayList<>();
    for (int i = 0; i < 11; i++) { // 11 samples of 3 to 9 steps: passes of 11, 10, ... rows unless aligned
      handles.add(engine.submit(SampleTask.of("r", i, 3, SamplerSettings.fixed(Solver.EULER, 3 + i % 7))));
    }
    drain(engine);
    assertTrue(model.batchSizes.stream().allMatch(s -> s % 4 == 0 || s < 4), "passes " + model.batchSizes);
    for (SampleHandle h : handles) {
      SampleResult r = h.result().getNow(null);
      assertEquals(SampleStatus.COMPLETED, r.status());
      assertEquals(3 + h.task().index() % 7, r.nfe());
      Flows.Result alone = Flows.sample(field(PFGM), h.task().settings(), 3, h.task().index(), FieldModel.NO_LABEL);
      assertArrayEquals(alone.x(), r.x(), "a sample held back a pass is still the same image");
    }
  }

  @Test
  void shouldLetHigherPriorityOvertakeBulkWorkBetweenSteps() {
    GenerationEngine engine = engine(field(PFGM), 2);
    List<String> finished = new ArrayList<>();
    SamplerSettings ten = SamplerSettings.fixed(Solver.EULER, 10);
    for (int i = 0; i < 4; i++) {
      engine.submit(new SampleTask("bulk", i, 1, ten, 0, null)).result()
          .thenAccept(r -> finished.add("bulk-" + r.task().index()));
    }
    engine.runOnce();
    engine.runOnce();
    engine.runOnce(); // bulk 0 and 1 are three steps in
    for (int i = 0; i < 2; i++) {
      engine.submit(new SampleTask("urgent", i, 2, ten, 5, null)).result()
          .thenAccept(r -> finished.add("urgent-" + r.task().index()));
    }
    drain(engine);
    assertEquals(List.of("urgent-0", "urgent-1", "bulk-0", "bulk-1", "bulk-2", "bulk-3"), finished);
  }

  @Test
  void shouldServeEqualPrioritiesInSubmissionOrder() {
    GenerationEngine engine = engine(field(PFGM), 1);
    List<Long> finished = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      engine.submit(SampleTask.of("r", i, 1, SamplerSettings.fixed(Solver.EULER, 3))).result()
          .thenAccept(r -> finished.add(r.task().index()));
    }
    drain(engine);
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L), finished);
  }

  @Test
  void shouldDropAnExpiredSampleBetweenSteps() {
    RecordingModel model = new RecordingModel(field(PFGM));
    GenerationEngine engine = engine(model, 4);
    SamplerSettings twenty = SamplerSettings.fixed(Solver.EULER, 20);
    SampleHandle late = engine.submit(new SampleTask("late", 0, 1, twenty, 0, clock.instant().plusSeconds(10)));
    SampleHandle patient = engine.submit(SampleTask.of("patient", 0, 1, twenty));
    engine.runOnce();
    engine.runOnce();
    engine.runOnce();
    assertFalse(late.result().isDone());
    clock.advance(Duration.ofSeconds(11));
    engine.runOnce();
    SampleResult expired = late.result().getNow(null);
    assertEquals(SampleStatus.EXPIRED, expired.status());
    assertEquals(3, expired.nfe(), "dropped before its fourth step");
    assertNull(expired.x());
    assertEquals(1, model.batchSizes.get(3), "the expired sample was not evaluated again");
    drain(engine);
    assertEquals(SampleStatus.COMPLETED, patient.result().getNow(null).status());
  }

  @Test
  void shouldNeverReportANegativeQueueOrComputeTimeWhenTheClockStepsBack() {
    GenerationEngine engine = engine(field(PFGM), 2);
    SampleHandle h = engine.submit(SampleTask.of("a", 0, 1, SamplerSettings.fixed(Solver.EULER, 3)));
    // As if submitted on another thread just after the round read the clock, or an NTP step back.
    clock.advance(Duration.ofMillis(-50));
    engine.runOnce();
    clock.advance(Duration.ofMillis(-50));
    drain(engine);
    SampleResult r = h.result().getNow(null);
    assertEquals(SampleStatus.COMPLETED, r.status());
    assertFalse(r.queueTime().isNegative(), r.queueTime().toString());
    assertFalse(r.computeTime().isNegative(), r.computeTime().toString());
  }

  @Test
  void shouldKeepServingWhenItsListenerThrows() throws Exception {
    EngineListener broken = new EngineListener() {
      @Override
      public void onBatch(int size, Duration duration) {
        throw new IllegalStateException("broken metrics (batch)");
      }

      @Override
      public void onResult(SampleResult result) {
        throw new IllegalArgumentException("broken metrics (result)");
      }
    };
    GenerationEngine engine = GenerationEngine.builder().setModel(field(PFGM)).optMaxBatchSize(2).optListener(broken)
        .build();
    engine.start();
    try {
      List<SampleHandle> handles = new ArrayList<>();
      for (int i = 0; i < 5; i++) { // more rounds than one, so a dead engine thread would leave some unfinished
        handles.add(engine.submit(SampleTask.of("a", i, 1, SamplerSettings.fixed(Solver.EULER, 4))));
      }
      for (SampleHandle h : handles) {
        assertEquals(SampleStatus.COMPLETED, h.result().get(30, TimeUnit.SECONDS).status());
      }
    } finally {
      engine.close();
    }
  }

  @Test
  void shouldExpireAQueuedSampleWithoutRunningIt() {
    GenerationEngine engine = engine(field(PFGM), 1);
    SampleHandle first = engine.submit(SampleTask.of("a", 0, 1, SamplerSettings.fixed(Solver.EULER, 5)));
    SampleHandle queued = engine.submit(new SampleTask("b", 0, 1, SamplerSettings.fixed(Solver.EULER, 5), 0,
        clock.instant().plusSeconds(1)));
    engine.runOnce();
    clock.advance(Duration.ofSeconds(2));
    engine.runOnce();
    assertEquals(SampleStatus.EXPIRED, queued.result().getNow(null).status());
    assertEquals(0, queued.result().getNow(null).nfe());
    drain(engine);
    assertEquals(SampleStatus.COMPLETED, first.result().getNow(null).status());
  }

  @Test
  void shouldRefuseASampleWhoseDeadlineHasPassed() {
    GenerationEngine engine = engine(field(PFGM), 1);
    SampleHandle h = engine.submit(new SampleTask("a", 0, 1, SamplerSettings.rk45(), 0, clock.instant()));
    assertEquals(SampleStatus.EXPIRED, h.result().getNow(null).status());
  }

  @Test
  void shouldCancelARequestBetweenStepsAndKeepServingOthers() {
    RecordingModel model = new RecordingModel(field(PFGM));
    GenerationEngine engine = engine(model, 2);
    SamplerSettings ten = SamplerSettings.fixed(Solver.EULER, 10);
    List<SampleHandle> doomed = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      doomed.add(engine.submit(SampleTask.of("doomed", i, 1, ten)));
    }
    SampleHandle survivor = engine.submit(SampleTask.of("survivor", 0, 1, ten));
    engine.runOnce();
    engine.runOnce();
    assertEquals(3, engine.cancel("doomed"));
    assertEquals(SampleStatus.CANCELLED, doomed.get(2).result().getNow(null).status(), "queued: cancelled at once");
    engine.runOnce();
    for (SampleHandle h : doomed) {
      assertEquals(SampleStatus.CANCELLED, h.result().getNow(null).status());
    }
    assertEquals(2, doomed.get(0).result().getNow(null).nfe());
    drain(engine);
    assertEquals(SampleStatus.COMPLETED, survivor.result().getNow(null).status());
    assertEquals(0, engine.cancel("doomed"), "nothing left to cancel");
  }

  @Test
  void shouldFailOnlyTheBatchWhoseEvaluationThrew() {
    RecordingModel model = new RecordingModel(field(PFGM));
    GenerationEngine engine = engine(model, 2);
    SamplerSettings five = SamplerSettings.fixed(Solver.EULER, 5);
    SampleHandle a = engine.submit(SampleTask.of("a", 0, 1, five));
    SampleHandle b = engine.submit(SampleTask.of("b", 0, 1, five));
    SampleHandle c = engine.submit(SampleTask.of("c", 0, 1, five));
    engine.runOnce();
    model.failNext = true;
    engine.runOnce();
    SampleResult failed = a.result().getNow(null);
    assertEquals(SampleStatus.FAILED, failed.status());
    assertTrue(failed.message().contains("device lost"), failed.message());
    assertEquals(SampleStatus.FAILED, b.result().getNow(null).status());
    drain(engine);
    assertEquals(SampleStatus.COMPLETED, c.result().getNow(null).status());
  }

  @Test
  void shouldFailASampleThatTurnsNonFinite() {
    RecordingModel nanModel = new RecordingModel(field(PFGM)) {
      @Override
      public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
        inner.evaluate(x, cond, out, count);
        out[0][0] = Double.NaN;
      }
    };
    GenerationEngine engine = engine(nanModel, 1);
    SampleHandle h = engine.submit(SampleTask.of("a", 0, 1, SamplerSettings.fixed(Solver.EULER, 3)));
    drain(engine);
    assertEquals(SampleStatus.FAILED, h.result().getNow(null).status());
    assertTrue(h.result().getNow(null).message().contains("non-finite"));
  }

  @Test
  void shouldRejectWhenTheQueueIsFull() {
    GenerationEngine engine = GenerationEngine.builder().setModel(field(PFGM)).optMaxQueued(2).optClock(clock).build();
    engine.submit(SampleTask.of("a", 0, 1, SamplerSettings.rk45()));
    engine.submit(SampleTask.of("a", 1, 1, SamplerSettings.rk45()));
    SampleResult third = engine.submit(SampleTask.of("a", 2, 1, SamplerSettings.rk45())).result().getNow(null);
    assertEquals(SampleStatus.REJECTED, third.status());
    assertTrue(third.message().contains("queue full"));
    engine.runOnce(); // both start: the queue has room again
    assertFalse(engine.submit(SampleTask.of("a", 3, 1, SamplerSettings.rk45())).result().isDone());
  }

  @Test
  void shouldCompleteEverySampleOnItsOwnThreadAndCancelTheRestOnClose() throws Exception {
    GenerationEngine engine = GenerationEngine.builder().setModel(field(PFGM)).optMaxBatchSize(8).build();
    engine.start();
    List<SampleHandle> handles = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      handles.add(engine.submit(SampleTask.of("r", i, 4, SamplerSettings.fixed(Solver.HEUN, 5))));
    }
    for (SampleHandle h : handles) {
      assertEquals(SampleStatus.COMPLETED, h.result().get(30, TimeUnit.SECONDS).status());
    }
    SampleHandle slow = engine.submit(SampleTask.of("slow", 0, 4, SamplerSettings.fixed(Solver.EULER, 10_000)));
    engine.close();
    SampleStatus status = slow.result().get(30, TimeUnit.SECONDS).status();
    assertTrue(status == SampleStatus.CANCELLED || status == SampleStatus.COMPLETED, status.toString());
  }

  @Test
  void shouldSpreadSamplesOverAPoolAndGiveTheSameImagesAsOneEngine() throws Exception {
    SamplerSettings heun = SamplerSettings.fixed(Solver.HEUN, 8);
    List<RecordingModel> copies = List.of(new RecordingModel(field(PFGM)), new RecordingModel(field(PFGM)),
        new RecordingModel(field(PFGM)));
    List<SampleResult> pooled = Flows.sampleAll(copies, heun, "pool", 3, 30, 4, done -> { });
    List<SampleResult> single = Flows.sampleAll(field(PFGM), heun, "pool", 3, 30, 4, done -> { });
    for (int i = 0; i < 30; i++) {
      assertEquals(SampleStatus.COMPLETED, pooled.get(i).status());
      assertArrayEquals(single.get(i).x(), pooled.get(i).x(), "index " + i);
    }
    for (RecordingModel copy : copies) {
      assertFalse(copy.batchSizes.isEmpty(), "every engine of the pool worked");
    }
  }

  @Test
  void shouldStreamEveryResultOnceWithinItsWindowAndTheSameImagesAsSampleAll() throws Exception {
    SamplerSettings heun = SamplerSettings.fixed(Solver.HEUN, 8);
    List<SampleResult> reference = Flows.sampleAll(field(PFGM), heun, "stream", 5, 40, 4, done -> { });
    int[] taken = {0};
    int[] handed = {0};
    int[] mostInFlight = {0};
    java.util.Iterator<SampleTask> tasks = new java.util.Iterator<>() {
      @Override
      public boolean hasNext() {
        return taken[0] < 40;
      }

      @Override
      public SampleTask next() {
        SampleTask t = SampleTask.of("stream", taken[0]++, 5, heun);
        mostInFlight[0] = Math.max(mostInFlight[0], taken[0] - handed[0]);
        return t;
      }
    };
    double[][] got = new double[40][];
    long count = Flows.forEachResult(List.of(field(PFGM), field(PFGM)), tasks, 4, 6, r -> {
      assertEquals(SampleStatus.COMPLETED, r.status());
      assertEquals(null, got[(int) r.task().index()], "each result once");
      got[(int) r.task().index()] = r.x();
      handed[0]++;
    });
    assertEquals(40, count);
    assertTrue(mostInFlight[0] <= 6, "at most the window in flight: " + mostInFlight[0]);
    for (int i = 0; i < 40; i++) {
      assertArrayEquals(reference.get(i).x(), got[i], "index " + i);
    }
    assertThrows(IllegalArgumentException.class, () -> Flows.forEachResult(List.of(field(PFGM)), tasks, 4, 0,
        r -> { }));
  }

  @Test
  void shouldPlaceEachSampleOnTheLeastLoadedEngine() {
    List<GenerationEngine> engines = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      engines.add(GenerationEngine.builder().setModel(field(PFGM)).optMaxBatchSize(4).optClock(clock).build());
    }
    try (EnginePool pool = new EnginePool(engines)) {
      for (int i = 0; i < 5; i++) {
        pool.submit(SampleTask.of("r", i, 1, SamplerSettings.fixed(Solver.EULER, 4)));
      }
      assertEquals(3, engines.get(0).load());
      assertEquals(2, engines.get(1).load());
      engines.get(1).cancel("r");
      pool.submit(SampleTask.of("s", 0, 1, SamplerSettings.fixed(Solver.EULER, 4)));
      assertEquals(1, engines.get(1).load(), "the emptied engine gets the next sample");
    }
  }
}

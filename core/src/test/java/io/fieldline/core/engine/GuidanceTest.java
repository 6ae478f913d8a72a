package io.fieldline.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Classifier-free guidance in the engine: the mixed field, the rows it costs, and its independence of batch-mates. */
class GuidanceTest {
  private static final int N = 6;
  private static final PfgmppPhysics PHYSICS = PfgmppPhysics.edmDefaults(N, 16);
  private static final SamplerSettings HEUN = SamplerSettings.fixed(Solver.HEUN, 6);

  /** The conditional denoiser of class c: 0.5 x + 0.1 (c + 1) + 0.01 k; no label: 0.4 x. */
  static double denoise(double x, int k, int label) {
    return label == FieldModel.NO_LABEL ? 0.4 * x : 0.5 * x + 0.1 * (label + 1) + 0.01 * k;
  }

  /** The physics and shape both test models share. */
  abstract static class Tiny implements FieldModel {
    @Override
    public Physics physics() {
      return PHYSICS;
    }

    @Override
    public ImageShape shape() {
      return new ImageShape(1, 2, 3);
    }
  }

  /** A tiny conditional model with three classes that counts the rows it evaluates. */
  static final class Conditional extends Tiny {
    final List<Integer> rows = new ArrayList<>();

    @Override
    public String name() {
      return "conditional";
    }

    @Override
    public List<String> classes() {
      return List.of("a", "b", "c");
    }

    @Override
    public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
      int[] none = new int[count];
      java.util.Arrays.fill(none, NO_LABEL);
      evaluate(x, cond, none, out, count);
    }

    @Override
    public void evaluate(double[][] x, double[] cond, int[] labels, double[][] out, int count) {
      rows.add(count);
      for (int i = 0; i < count; i++) {
        for (int k = 0; k < N; k++) {
          out[i][k] = denoise(x[i][k], k, labels[i]);
        }
      }
    }
  }

  /** The hand-mixed field u + w (c - u) of class {@code label} as an unconditional model. */
  static final class HandMixed extends Tiny {
    final int label;
    final double w;

    HandMixed(int label, double w) {
      this.label = label;
      this.w = w;
    }

    @Override
    public String name() {
      return "hand";
    }

    @Override
    public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
      for (int i = 0; i < count; i++) {
        for (int k = 0; k < N; k++) {
          double c = denoise(x[i][k], k, label);
          double u = denoise(x[i][k], k, NO_LABEL);
          // w = 1 and w = 0 are the plain fields (one evaluation, no mixing arithmetic)
          out[i][k] = w == 1 ? c : w == 0 ? u : u + w * (c - u);
        }
      }
    }
  }

  private static SampleResult runOne(FieldModel model, SampleTask task, List<SampleTask> mates, int maxBatch) {
    GenerationEngine engine = GenerationEngine.builder().setModel(model).optMaxBatchSize(maxBatch)
        .optClock(new FakeClock()).build();
    for (SampleTask mate : mates) {
      engine.submit(mate);
    }
    SampleHandle handle = engine.submit(task);
    while (engine.runOnce() > 0) {
      // drain
    }
    return handle.result().getNow(null);
  }

  @Test
  void shouldIntegrateTheHandMixedFieldAndCountBothEvaluations() {
    for (double w : new double[] {0, 1, 2, 3.5}) {
      SamplerSettings settings = HEUN.withGuidance(w);
      SampleResult guided = runOne(new Conditional(), new SampleTask("r", 4, 9, settings, 0, null, 1), List.of(), 8);
      Flows.Result byHand = Flows.sample(new HandMixed(1, w), HEUN, 9, 4);
      assertEquals(SampleStatus.COMPLETED, guided.status());
      assertArrayEquals(byHand.x(), guided.x(), "w = " + w + ": bitwise the hand-mixed field's image");
      int perPoint = w == 0 || w == 1 ? 1 : 2;
      assertEquals(HEUN.plannedNfe() * perPoint, guided.nfe(), "NFE at w = " + w);
    }
  }

  @Test
  void shouldTreatWOneAsTheConditionalAndWZeroAsTheUnconditionalField() {
    SampleResult plain = runOne(new Conditional(), new SampleTask("r", 0, 3, HEUN, 0, null, 2), List.of(), 8);
    SampleResult zero = runOne(new Conditional(), new SampleTask("r", 0, 3, HEUN.withGuidance(0), 0, null, 2),
        List.of(), 8);
    SampleResult unlabelled = runOne(new Conditional(), SampleTask.of("r", 0, 3, HEUN.withGuidance(2)), List.of(), 8);
    assertArrayEquals(Flows.sample(new HandMixed(2, 1), HEUN, 3, 0).x(), plain.x());
    assertArrayEquals(unlabelled.x(), zero.x(), "w = 0 is the field without a label");
    assertEquals(HEUN.plannedNfe(), unlabelled.nfe(), "a sample without a class ignores guidance");
    assertFalse(java.util.Arrays.equals(plain.x(), zero.x()));
  }

  @Test
  void shouldGiveAGuidedSampleTheSameBitsWhateverItsBatchMates() {
    SampleTask target = new SampleTask("t", 7, 11, HEUN.withGuidance(2), 0, null, 0);
    SampleResult alone = runOne(new Conditional(), target, List.of(), 8);
    List<SampleTask> mates = new ArrayList<>();
    for (int i = 0; i < 13; i++) {
      mates.add(new SampleTask("m", i, 100 + i, HEUN.withGuidance(i % 3 == 0 ? 1.5 : 1), 0, null, i % 4 - 1));
    }
    // maxBatch 1: a guided sample still gets its two rows; 5: pairs and singles share passes unevenly.
    for (int maxBatch : new int[] {1, 5, 64}) {
      Conditional model = new Conditional();
      SampleResult crowded = runOne(model, target, mates, maxBatch);
      assertArrayEquals(alone.x(), crowded.x(), "maxBatch " + maxBatch);
      assertTrue(model.rows.stream().allMatch(r -> r <= Math.max(maxBatch, 2)), "rows per pass " + model.rows);
    }
    assertArrayEquals(Flows.sample(new Conditional(), HEUN.withGuidance(2), 11, 7, 0).x(), alone.x(),
        "Flows.sample with a label is the engine's image");
  }

  @Test
  void shouldFailOnlyTheSampleWithAClassTheModelLacks() {
    GenerationEngine engine = GenerationEngine.builder().setModel(new Conditional()).optClock(new FakeClock()).build();
    SampleHandle bad = engine.submit(new SampleTask("bad", 0, 1, HEUN, 0, null, 3));
    SampleHandle good = engine.submit(new SampleTask("good", 0, 1, HEUN, 0, null, 2));
    while (engine.runOnce() > 0) {
      // drain
    }
    assertEquals(SampleStatus.FAILED, bad.result().getNow(null).status());
    assertTrue(bad.result().getNow(null).message().contains("not one of"), bad.result().getNow(null).message());
    assertEquals(SampleStatus.COMPLETED, good.result().getNow(null).status());
  }

  @Test
  void shouldRefuseNanOrHugeGuidance() {
    assertThrows(IllegalArgumentException.class, () -> HEUN.withGuidance(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> HEUN.withGuidance(1e9));
    assertThrows(IllegalArgumentException.class, () -> HEUN.withGuidance(-1));
    assertEquals("heun(steps=6, guidance=2.5)", HEUN.withGuidance(2.5).describe());
    assertEquals("heun(steps=6)", HEUN.withGuidance(1).describe());
  }
}

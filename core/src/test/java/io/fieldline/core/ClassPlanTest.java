package io.fieldline.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.Datasets;
import io.fieldline.core.engine.SampleResult;
import io.fieldline.core.engine.SampleStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Classes per image from a request, and the exact class-conditional field they select. */
class ClassPlanTest {
  private static final List<String> FASHION = Datasets.FASHION_MNIST_CLASSES;

  @Test
  void shouldCycleNamesAndIndicesOverTheImages() {
    ClassPlan plan = ClassPlan.cycle(List.of("Sandal", "7", " bag "), FASHION);
    int[] expected = {5, 7, 8, 5, 7, 8, 5};
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], plan.labelOf(i));
    }
    assertEquals(-1, plan.total());
    ClassPlan all = ClassPlan.cycle(List.of("all"), FASHION);
    for (int i = 0; i < 25; i++) {
      assertEquals(i % 10, all.labelOf(i));
    }
    assertEquals(FieldModel.NO_LABEL, ClassPlan.NONE.labelOf(3));
  }

  @Test
  void shouldLayCountsOutInClassIndexOrder() {
    Map<String, Integer> counts = new LinkedHashMap<>();
    counts.put("sneaker", 2);
    counts.put("sandal", 3);
    ClassPlan plan = ClassPlan.counts(counts, FASHION);
    assertEquals(5, plan.total());
    int[] expected = {5, 5, 5, 7, 7};
    for (int i = 0; i < 5; i++) {
      assertEquals(expected[i], plan.labelOf(i));
    }
    assertThrows(IllegalArgumentException.class, () -> plan.labelOf(5));
  }

  @Test
  void shouldRefuseWhatNoModelCanServeWithAReason() {
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> ClassPlan.cycle(List.of("sandal", "spaceship"), FASHION));
    assertTrue(unknown.getMessage().contains("unknown class 'spaceship'") && unknown.getMessage().contains("sneaker"),
        unknown.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ClassPlan.cycle(List.of("10"), FASHION));
    assertThrows(IllegalArgumentException.class, () -> ClassPlan.cycle(List.of("-1"), FASHION));
    assertThrows(IllegalArgumentException.class, () -> ClassPlan.cycle(List.of(), FASHION));
    IllegalArgumentException unconditional = assertThrows(IllegalArgumentException.class,
        () -> ClassPlan.cycle(List.of("sandal"), List.of()));
    assertTrue(unconditional.getMessage().contains("unconditional"), unconditional.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ClassPlan.counts(Map.of("sandal", -3), FASHION));
    assertThrows(IllegalArgumentException.class, () -> ClassPlan.counts(Map.of("sandal", 0), FASHION));
    assertThrows(IllegalArgumentException.class, () -> ClassPlan.counts(Map.of("sandal", 1_000_000), FASHION));
    assertThrows(IllegalArgumentException.class, () -> ClassPlan.counts(Map.of("sandal", 2, "5", 3), FASHION),
        "one class by name and by index");
  }

  @Test
  void shouldCarryEachClassOntoItsOwnDataPointsWithTheExactField() throws Exception {
    // The PFGM theorem per class: the field of class c's charges alone carries the prior onto class c's points.
    int n = 8;
    Random r = new Random(3);
    double[][] data = new double[6][n];
    int[] labels = {0, 1, 2, 0, 1, 2};
    for (double[] p : data) {
      for (int k = 0; k < n; k++) {
        p[k] = 2 * r.nextDouble() - 1;
      }
    }
    ExactField field = ExactField.builder().setData(data).setPhysics(PfgmppPhysics.edmDefaults(n, 16))
        .setShape(new ImageShape(1, 2, 4)).optLabels(labels, List.of("a", "b", "c")).build();
    List<SampleResult> results = Flows.sampleAll(List.of(field), SamplerSettings.fixed(Solver.HEUN, 40), "t", 1,
        i -> i % 3, 30, 16, done -> { });
    for (SampleResult s : results) {
      assertEquals(SampleStatus.COMPLETED, s.status());
      int nearest = -1;
      double best = Double.POSITIVE_INFINITY;
      for (int j = 0; j < data.length; j++) {
        double d = 0;
        for (int k = 0; k < n; k++) {
          d += (s.x()[k] - data[j][k]) * (s.x()[k] - data[j][k]);
        }
        if (d < best) {
          best = d;
          nearest = j;
        }
      }
      assertEquals(s.task().label(), labels[nearest], "sample " + s.task().index() + " lands on class "
          + labels[nearest]);
      assertTrue(Math.sqrt(best) < 0.05, "sample " + s.task().index() + " is " + Math.sqrt(best) + " from a point");
    }
    assertThrows(IllegalArgumentException.class, () -> ExactField.builder().setData(data)
        .setPhysics(PfgmppPhysics.edmDefaults(n, 16)).setShape(new ImageShape(1, 2, 4))
        .optLabels(new int[] {0, 0, 0, 0, 0, 0}, List.of("a", "b")).build(), "a class without a charge");
  }
}

package io.fieldline.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExactFieldTest {
  private static final PfgmPhysics PFGM3 = new PfgmPhysics(3, 40, 1e-3, 3000, 5, 0);

  /** Direct (N+1)-dim Coulomb sum with Math.pow, fine in double for N = 3: the independent reference. */
  private static double[] coulombNormalized(double[][] data, double[] x, double z, double gamma) {
    int n = x.length;
    double[] e = new double[n + 1];
    double total = 0;
    for (double[] y : data) {
      double d2 = z * z;
      for (int i = 0; i < n; i++) {
        d2 += (x[i] - y[i]) * (x[i] - y[i]);
      }
      double w = Math.pow(Math.sqrt(d2), -(n + 1));
      total += w;
      for (int i = 0; i < n; i++) {
        e[i] += w * (y[i] - x[i]);
      }
      e[n] += w * (0 - z);
    }
    double norm = 0;
    for (int i = 0; i <= n; i++) {
      e[i] /= total;
      norm += e[i] * e[i];
    }
    norm = Math.sqrt(norm);
    for (int i = 0; i <= n; i++) {
      e[i] *= Math.sqrt(n) / (norm + gamma);
    }
    return e;
  }

  @Test
  void shouldMatchTheDirectCoulombSumInLowDimension() {
    double[][] data = TestData.uniformPoints(5, 3, 1);
    ExactField field = TestData.field(data, PFGM3);
    double[] out = new double[4];
    for (double z : new double[] {1e-3, 0.1, 1, 40}) {
      double[] x = {0.3, -0.2, 0.9};
      field.evaluate(new double[][] {x}, new double[] {z}, new double[][] {out}, 1);
      double[] expected = coulombNormalized(data, x, z, 5);
      for (int i = 0; i < 4; i++) {
        assertEquals(expected[i], out[i], 1e-12 * (1 + Math.abs(expected[i])), "z=" + z + " component " + i);
      }
    }
  }

  @Test
  void shouldMatchTheDirectPosteriorMeanForPfgmpp() {
    double[][] data = TestData.uniformPoints(6, 3, 2);
    double d = 5;
    ExactField field = TestData.field(data, PfgmppPhysics.edmDefaults(3, d));
    double sigma = 0.7;
    double[] x = {0.1, 0.4, -0.5};
    double[] out = new double[3];
    field.evaluate(new double[][] {x}, new double[] {sigma}, new double[][] {out}, 1);
    double r2 = sigma * sigma * d;
    double[] mean = new double[3];
    double total = 0;
    for (double[] y : data) {
      double d2 = 0;
      for (int i = 0; i < 3; i++) {
        d2 += (x[i] - y[i]) * (x[i] - y[i]);
      }
      double w = Math.pow(d2 + r2, -(3 + d) / 2);
      total += w;
      for (int i = 0; i < 3; i++) {
        mean[i] += w * y[i];
      }
    }
    for (int i = 0; i < 3; i++) {
      assertEquals(mean[i] / total, out[i], 1e-13);
    }
  }

  @Test
  void shouldApproachTheGaussianKernelAsDGrows() {
    double[][] data = TestData.uniformPoints(6, 4, 3);
    double[] x = {0.1, 0.4, -0.5, 0.2};
    double[] large = new double[4];
    double[] infinite = new double[4];
    TestData.field(data, PfgmppPhysics.edmDefaults(4, 1e9))
        .evaluate(new double[][] {x}, new double[] {0.5}, new double[][] {large}, 1);
    TestData.field(data, PfgmppPhysics.edmDefaults(4, Double.POSITIVE_INFINITY))
        .evaluate(new double[][] {x}, new double[] {0.5}, new double[][] {infinite}, 1);
    for (int i = 0; i < 4; i++) {
      assertEquals(infinite[i], large[i], 1e-7);
    }
  }

  @Test
  void shouldNotUnderflowInHighDimensionNearTheData() {
    // N = 3072: (1/ratio)^3073 underflows in float32 (and in double for ratio > 1.26); log-space must not.
    double[][] data = TestData.uniformPoints(16, 3072, 4);
    ExactField field = TestData.field(data, PfgmPhysics.cifar10());
    double[] x = data[3].clone();
    x[0] += 0.05;
    double[] w = new double[16];
    field.weights(x, 0.01, w);
    assertEquals(1.0, w[3], 1e-12);
    double[] out = new double[3073];
    field.evaluate(new double[][] {x}, new double[] {0.01}, new double[][] {out}, 1);
    for (double v : out) {
      assertTrue(Double.isFinite(v));
    }
    assertTrue(out[0] < 0, "the field points back toward the nearest charge");
    // Far away all charges weigh about the same: the field points to the data mean.
    field.weights(new double[3072], 1e4, w);
    for (double v : w) {
      assertEquals(1.0 / 16, v, 1e-3);
    }
  }

  @Test
  void shouldGiveRowResultsIndependentOfTheBatch() {
    double[][] data = TestData.uniformPoints(10, 8, 5);
    ExactField field = TestData.field(data, PfgmPhysics.recommended(8, 1.5));
    double[][] xs = TestData.uniformPoints(7, 8, 6);
    double[] cond = {0.01, 0.1, 1, 10, 20, 30, 40};
    double[][] batched = new double[7][9];
    field.evaluate(xs, cond, batched, 7);
    for (int i = 0; i < 7; i++) {
      double[][] alone = new double[1][9];
      field.evaluate(new double[][] {xs[i]}, new double[] {cond[i]}, alone, 1);
      assertEquals(java.util.Arrays.toString(alone[0]), java.util.Arrays.toString(batched[i]));
    }
  }

  @Test
  void shouldGiveTheSameBitsSeriallyAndInParallel() {
    double[][] data = TestData.uniformPoints(40, 8, 4);
    PfgmppPhysics physics = PfgmppPhysics.edmDefaults(8, 16);
    ImageShape shape = new ImageShape(1, 2, 4);
    ExactField parallel = ExactField.builder().setData(data).setPhysics(physics).setShape(shape).build();
    ExactField serial = ExactField.builder().setData(data).setPhysics(physics).setShape(shape).optParallel(false)
        .build();
    double[][] xs = TestData.uniformPoints(33, 8, 9);
    double[] cond = new double[33];
    for (int i = 0; i < 33; i++) {
      cond[i] = 0.01 + 0.3 * i;
    }
    double[][] a = new double[33][8];
    double[][] b = new double[33][8];
    parallel.evaluate(xs, cond, a, 33);
    serial.evaluate(xs, cond, b, 33);
    assertTrue(java.util.Arrays.deepEquals(a, b));
  }

  @Test
  void shouldRejectBadDataClearly() {
    PfgmPhysics physics = new PfgmPhysics(2, 40, 1e-3, 3000, 5, 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TestData.field(new double[][] {{0, Double.NaN}}, physics));
    assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
    ImageShape shape = new ImageShape(1, 1, 2);
    assertThrows(IllegalArgumentException.class,
        () -> ExactField.builder().setData(new double[][] {{0, 1, 2}}).setPhysics(physics).setShape(shape).build());
    assertThrows(IllegalArgumentException.class,
        () -> ExactField.builder().setData(new double[0][]).setPhysics(physics).setShape(shape).build());
    assertThrows(IllegalArgumentException.class, () -> ExactField.builder()
        .setData(new double[][] {{0, 1, 2}}).setPhysics(physics).setShape(new ImageShape(1, 1, 3)).build());
  }
}

package io.fieldline.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.commons.math3.special.Gamma;
import org.junit.jupiter.api.Test;

class LikelihoodTest {
  /**
   * ln p_s(x) of the data smoothed at level s: the mean of the PFGM++ kernels (D = 1, r = z: PFGM's Poisson kernel)
   * around the points, written from the multivariate-t formula with commons-math's lnGamma (independent of the code
   * under test).
   */
  private static double smoothedLogDensity(double[][] data, double[] x, double d, double r) {
    int n = x.length;
    double norm = Gamma.logGamma((n + d) / 2) - n / 2.0 * Math.log(Math.PI) - Gamma.logGamma(d / 2) + d * Math.log(r);
    double[] terms = new double[data.length];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < data.length; j++) {
      double sq = 0;
      for (int i = 0; i < n; i++) {
        sq += (x[i] - data[j][i]) * (x[i] - data[j][i]);
      }
      terms[j] = norm - (n + d) / 2 * Math.log(r * r + sq);
      max = Math.max(max, terms[j]);
    }
    double sum = 0;
    for (double t : terms) {
      sum += Math.exp(t - max);
    }
    return max + Math.log(sum / data.length);
  }

  private static void checkFlowCarriesTheSmoothedDensity(Physics physics, double d, double rPerLevel, double from) {
    double[][] data = TestData.uniformPoints(12, 2, 3);
    ExactField field = TestData.field(data, physics);
    double[][] xs = {{0.1, -0.2}, {0.8, 0.7}, {-1.3, 0.4}, {data[0][0] + 0.05, data[0][1]}};
    List<Likelihood.Result> results = Likelihood.builder().setModel(field).optProbes(0).optTolerance(1e-8, 1e-8)
        .optFrom(from).build().evaluate(xs, null, 1, done -> { });
    double to = Priors.start(physics);
    for (int k = 0; k < xs.length; k++) {
      Likelihood.Result r = results.get(k);
      assertTrue(r.finished());
      double expected = smoothedLogDensity(data, xs[k], d, rPerLevel * from)
          - smoothedLogDensity(data, r.latent(), d, rPerLevel * to);
      // Measured: within 2.5e-5 nats (PFGM++) and 1.5e-4 (PFGM, whose v_z carries the official 1e-5 bias) of 7 to 11.
      assertEquals(expected, r.divergenceIntegral(), 1e-3, "point " + k);
      assertEquals(0, r.standardError());
    }
  }

  @Test
  void shouldCarryTheSmoothedDataDensityToItsValueAtSigmaMaxAlongThePfgmppFlow() {
    double d = 8;
    checkFlowCarriesTheSmoothedDensity(PfgmppPhysics.edmDefaults(2, d), d, Math.sqrt(d), 0.3);
  }

  @Test
  void shouldCarryTheSmoothedDataDensityToItsValueAtZMaxAlongThePfgmFlow() {
    checkFlowCarriesTheSmoothedDensity(new PfgmPhysics(2, 40, 1e-3, Double.POSITIVE_INFINITY, 5, 0), 1, 1, 0.3);
  }

  @Test
  void shouldAgreeWithTheExactTraceWithinTheProbesStandardError() {
    double[][] data = TestData.uniformPoints(20, 16, 5);
    ExactField field = TestData.field(data, PfgmppPhysics.edmDefaults(16, 32));
    double[][] xs = TestData.uniformPoints(3, 16, 9);
    List<Likelihood.Result> exact = Likelihood.builder().setModel(field).optProbes(0).optFrom(0.2).build()
        .evaluate(xs, null, 1, done -> { });
    List<Likelihood.Result> probed = Likelihood.builder().setModel(field).optProbes(24).optFrom(0.2).build()
        .evaluate(xs, null, 1, done -> { });
    for (int k = 0; k < xs.length; k++) {
      Likelihood.Result e = exact.get(k);
      Likelihood.Result p = probed.get(k);
      assertTrue(p.standardError() > 0 && p.standardError() < 5, "a useful standard error: " + p.standardError());
      assertEquals(e.logDensity(), p.logDensity(), 4 * p.standardError(), "point " + k);
      assertArrayEquals(e.latent(), p.latent(), 1e-12, "the trajectory does not depend on the divergence estimate");
    }
  }

  @Test
  void shouldGiveAnImageTheSameBitsAloneAndAmongOthers() {
    double[][] data = TestData.uniformPoints(10, 8, 2);
    ExactField field = TestData.field(data, PfgmppPhysics.edmDefaults(8, 16));
    double[][] xs = TestData.uniformPoints(5, 8, 4);
    // 2 probes: 5 rows an image, so calls of 15 rows hold three images; 8 probes: 17 rows, split over calls of 7.
    for (int[] layout : new int[][] {{2, 15}, {8, 7}}) {
      Likelihood likelihood = Likelihood.builder().setModel(field).optProbes(layout[0]).optMaxBatch(layout[1]).build();
      Likelihood oneRowACall = Likelihood.builder().setModel(field).optProbes(layout[0]).optMaxBatch(1).build();
      List<Likelihood.Result> together = likelihood.evaluate(xs, null, 42, done -> { });
      for (int k = 0; k < xs.length; k++) {
        double[][] alone = new double[k + 1][];
        for (int j = 0; j <= k; j++) {
          alone[j] = xs[k]; // the image at index k of its own run: the same probe stream (seed, k)
        }
        Likelihood.Result r = oneRowACall.evaluate(alone, null, 42, done -> { }).get(k);
        assertEquals(together.get(k).logDensity(), r.logDensity(), 0.0, "image " + k + " " + layout[0] + " probes");
        assertEquals(together.get(k).nfe(), r.nfe());
      }
    }
  }

  @Test
  void shouldStopAnImageAtItsEvaluationCapAndSaySo() {
    ExactField field = TestData.field(TestData.uniformPoints(6, 4, 1), PfgmppPhysics.edmDefaults(4, 8));
    List<Likelihood.Result> r = Likelihood.builder().setModel(field).optMaxNfe(10).build()
        .evaluate(TestData.uniformPoints(2, 4, 2), null, 0, done -> { });
    assertFalse(r.get(0).finished());
    assertTrue(Double.isNaN(r.get(0).logDensity()));
    assertTrue(r.get(0).nfe() >= 10 && r.get(0).nfe() < 20, "stopped at the cap: " + r.get(0).nfe());
  }

  @Test
  void shouldDequantizeEachPixelWithinItsOwnBinAndRefuseValuesOffTheGrid() {
    double[] x = new double[300];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i % 256) / 127.5 - 1;
    }
    double[] a = Likelihood.dequantize(x, 3, 0);
    double[] b = Likelihood.dequantize(x, 3, 1);
    for (int i = 0; i < x.length; i++) {
      assertTrue(Math.abs(a[i] - x[i]) <= 0.5 / 127.5, "value " + i + " stays in its bin");
    }
    assertFalse(java.util.Arrays.equals(a, b), "each image has its own noise");
    assertArrayEquals(a, Likelihood.dequantize(x, 3, 0), 0.0, "and the same noise every time");
    assertThrows(IllegalArgumentException.class, () -> Likelihood.dequantize(new double[] {0.1234}, 0, 0));
    // bits/dim of the uniform density on the dequantized cube [-1, 1]^N (one 8-bit level per unit is 1/127.5): 8 bits.
    int n = 10;
    double uniform = -n * Math.log(2 + 1 / 127.5);
    assertEquals(8, Likelihood.bitsPerDim(uniform, n, true), 0.01);
  }

  @Test
  void shouldRefuseWhatItCannotComputeWithReasons() {
    ExactField big = TestData.field(TestData.uniformPoints(3, 100, 1), PfgmppPhysics.edmDefaults(100, 8));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Likelihood.builder().setModel(big).optProbes(0).build());
    assertTrue(e.getMessage().contains("N = 100"), e.getMessage());
    Likelihood l = Likelihood.builder().setModel(big).build();
    e = assertThrows(IllegalArgumentException.class, () -> l.evaluate(new double[][] {new double[100]}, new int[] {2},
        0, done -> { }));
    assertTrue(e.getMessage().contains("unconditional"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> l.evaluate(new double[][] {new double[5]}, null, 0, d -> { }));
    assertThrows(IllegalArgumentException.class, () -> Likelihood.builder().setModel(big).optTolerance(Double.NaN, 1));
    assertThrows(IllegalArgumentException.class, () -> Likelihood.builder().setModel(big).optProbes(-1));
  }
}

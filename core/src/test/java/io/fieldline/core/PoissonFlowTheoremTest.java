package io.fieldline.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;

/**
 * The theorem behind PFGM and PFGM++, checked with the exact field of a small data set: the backward ODE maps the
 * prior onto the data distribution (every sample lands on a data point, each point equally often), and the forward
 * ODE inverts it.
 */
class PoissonFlowTheoremTest {
  private static final int N = 16;
  private static final int POINTS = 8;
  private static final double[][] DATA = TestData.uniformPoints(POINTS, N, 2024);
  private static final PfgmPhysics PFGM = new PfgmPhysics(N, 40, 1e-3, Double.POSITIVE_INFINITY, 5, 0);
  /**
   * Landing needs a lower z_min than the official 1e-3: field lines reach a charge at an angle theta from the
   * vertical and stop z_min tan(theta) away from it, and arrivals are grazing (uniform flux over the hemisphere
   * around the charge), so at z_min = 1e-3 a few of 400 samples stop ~0.5 away. Going much lower fails in the other
   * direction: with N = 16, v_z ~ -sqrt(N) z / gamma falls below the official 1e-5 bias of v_z + 1e-5 near
   * z = 1e-5 and the drift turns around. 1e-4 keeps |v_z| about eight times the bias.
   */
  private static final PfgmPhysics PFGM_LANDING = new PfgmPhysics(N, 40, 1e-4, Double.POSITIVE_INFINITY, 5, 0);

  @Test
  void shouldReturnEachDataPointAfterForwardThenBackwardIntegration() {
    ExactField field = TestData.field(DATA, PFGM);
    SamplerSettings tight = SamplerSettings.rk45(1e-11);
    for (double[] y : DATA) {
      Flows.Result latent = Flows.encode(field, y, 1e-11, 1e-11);
      assertTrue(TestData.distance(latent.x(), y) > 1, "the forward ODE must move the point away from the data");
      Flows.Result back = Flows.decode(field, tight, latent.x());
      double relative = TestData.distance(back.x(), y) / TestData.norm(y);
      assertTrue(relative < 1e-6, "relative error " + relative);
    }
  }

  @Test
  void shouldLandUniformlyOnTheDataForPfgm() {
    assertUniformLanding(TestData.field(DATA, PFGM_LANDING), SamplerSettings.rk45(), 400, 0.1);
  }

  @Test
  void shouldLandUniformlyOnTheDataForPfgmppWithLargeD() {
    PfgmppPhysics physics = PfgmppPhysics.edmDefaults(N, 100_000);
    assertUniformLanding(TestData.field(DATA, physics), SamplerSettings.fixed(Solver.HEUN, 18), 400, 1e-6);
  }

  @Test
  void shouldLandUniformlyOnTheDataInTheDiffusionLimit() {
    PfgmppPhysics physics = PfgmppPhysics.edmDefaults(N, Double.POSITIVE_INFINITY);
    assertUniformLanding(TestData.field(DATA, physics), SamplerSettings.rk45(), 400, 1e-6);
  }

  /**
   * Every sample must end within {@code epsilon} times the smallest distance between two data points of its nearest
   * point, and the landing counts must be consistent with uniform (chi-square, p > 0.001; the seeds are fixed, so
   * the test is deterministic).
   */
  private static void assertUniformLanding(ExactField field, SamplerSettings settings, int samples,
      double relativeEpsilon) {
    double spacing = Double.POSITIVE_INFINITY;
    for (int a = 0; a < POINTS; a++) {
      for (int b = a + 1; b < POINTS; b++) {
        spacing = Math.min(spacing, TestData.distance(DATA[a], DATA[b]));
      }
    }
    double epsilon = relativeEpsilon * spacing;
    long[] counts = new long[POINTS];
    double worst = 0;
    for (int i = 0; i < samples; i++) {
      Flows.Result r = Flows.sample(field, settings, 77, i);
      int j = TestData.nearest(DATA, r.x());
      double distance = TestData.distance(DATA[j], r.x());
      worst = Math.max(worst, distance);
      counts[j]++;
    }
    assertTrue(worst < epsilon, "a sample ended " + worst + " from the nearest data point (spacing " + spacing + ")");
    double[] expected = new double[POINTS];
    java.util.Arrays.fill(expected, (double) samples / POINTS);
    double p = new ChiSquareTest().chiSquareTest(expected, counts);
    assertTrue(p > 1e-3, "landing counts " + java.util.Arrays.toString(counts) + " p=" + p);
  }
}

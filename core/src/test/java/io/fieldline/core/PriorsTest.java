package io.fieldline.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.distribution.BetaDistribution;
import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The prior radius laws against Beta quantiles computed independently by commons-math (regularized incomplete beta
 * by continued fractions), not by the Gamma-ratio sampler under test.
 */
class PriorsTest {
  private static final double MIN_P = 1e-3;
  private static final int DRAWS = 4000;

  /** B = R^2 / (R^2 + r^2) must be Beta(N/2, D/2) (docs/PHYSICS.md sections 5, 9). */
  @ParameterizedTest(name = "N={0}, D={1}")
  @CsvSource({"2, 1", "16, 1", "784, 1", "3072, 1", "196608, 1", "16, 2", "784, 128", "3072, 2048", "100, 100000"})
  void shouldDrawRadiiWithTheBetaPrimeLaw(int n, double d) {
    Physics physics = d == 1
        ? new PfgmPhysics(n, 40, 1e-3, Double.POSITIVE_INFINITY, 5, 0)
        : PfgmppPhysics.edmDefaults(n, d);
    double r = d == 1 ? 40 : 80 * Math.sqrt(d);
    double[] b = new double[DRAWS];
    for (int i = 0; i < DRAWS; i++) {
      double radius = Priors.radius(physics, 1234, i);
      double ratio = (radius / r) * (radius / r);
      b[i] = ratio / (1 + ratio);
    }
    double p = new KolmogorovSmirnovTest().kolmogorovSmirnovTest(new BetaDistribution(n / 2.0, d / 2.0), b);
    assertTrue(p > MIN_P, "KS p-value " + p);
  }

  @Test
  void shouldStayFiniteAndCenteredForTheLargestSizes() {
    // N = 196608 (LSUN 256) and D = 10^6: B has mean a/(a+b), standard deviation about 5e-4.
    PfgmppPhysics physics = PfgmppPhysics.edmDefaults(196_608, 1e6);
    double a = 196_608 / 2.0;
    double bb = 1e6 / 2;
    double mean = a / (a + bb);
    double sd = Math.sqrt(a * bb / ((a + bb) * (a + bb) * (a + bb + 1)));
    double sum = 0;
    int draws = 400;
    for (int i = 0; i < draws; i++) {
      double radius = Priors.radius(physics, 5, i);
      assertTrue(Double.isFinite(radius) && radius > 0);
      double ratio = radius * radius / (80.0 * 80.0 * 1e6);
      sum += ratio / (1 + ratio);
    }
    assertEquals(mean, sum / draws, 5 * sd / Math.sqrt(draws));
  }

  @Test
  void shouldClipAboutHalfOfTheCifarDrawsAtTheUpperNorm() {
    PfgmPhysics cifar = PfgmPhysics.cifar10();
    double ratio = (cifar.upperNorm() / cifar.zMax()) * (cifar.upperNorm() / cifar.zMax());
    double expected = 1 - new BetaDistribution(1536, 0.5).cumulativeProbability(ratio / (1 + ratio));
    int draws = 20_000;
    int clipped = 0;
    for (int i = 0; i < draws; i++) {
      double radius = Priors.radius(cifar, 99, i);
      assertTrue(radius >= 1 && radius <= cifar.upperNorm());
      if (radius == cifar.upperNorm()) {
        clipped++;
      }
    }
    double fraction = (double) clipped / draws;
    double se = Math.sqrt(expected * (1 - expected) / draws);
    assertEquals(expected, fraction, 4 * se);
    // docs/PHYSICS.md section 5: 54% with the official code.
    assertEquals(0.54, fraction, 0.02);
  }

  @Test
  void shouldDrawChiRadiiInTheDiffusionLimit() {
    PfgmppPhysics physics = PfgmppPhysics.edmDefaults(50, Double.POSITIVE_INFINITY);
    double[] r2 = new double[DRAWS];
    for (int i = 0; i < DRAWS; i++) {
      double radius = Priors.radius(physics, 3, i) / 80;
      r2[i] = radius * radius;
    }
    double p = new KolmogorovSmirnovTest().kolmogorovSmirnovTest(new ChiSquaredDistribution(50), r2);
    assertTrue(p > MIN_P, "KS p-value " + p);
  }

  @Test
  void shouldDrawUniformDirections() {
    // For a uniform direction in N dims each coordinate has mean 0 and variance 1/N, and the first coordinate
    // squared is Beta(1/2, (N-1)/2).
    int n = 10;
    PfgmppPhysics physics = PfgmppPhysics.edmDefaults(n, 4);
    double[] first = new double[DRAWS];
    for (int i = 0; i < DRAWS; i++) {
      double[] x = Priors.draw(physics, 11, i);
      double norm = 0;
      for (double v : x) {
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      assertEquals(Priors.radius(physics, 11, i), norm, 1e-9 * norm);
      first[i] = (x[0] / norm) * (x[0] / norm);
    }
    double p = new KolmogorovSmirnovTest().kolmogorovSmirnovTest(new BetaDistribution(0.5, (n - 1) / 2.0), first);
    assertTrue(p > MIN_P, "KS p-value " + p);
  }

  @Test
  void shouldBeAPureFunctionOfSeedAndIndex() {
    PfgmPhysics physics = PfgmPhysics.recommended(784, 22);
    assertArrayEquals(Priors.draw(physics, 7, 3), Priors.draw(physics, 7, 3));
  }
}

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

  /**
   * The closed-form prior density, seen through its radius law p_R(R) = S_(N-1) R^(N-1) p(R e_1): integrated
   * numerically (trapezoid in ln R, which is spectrally accurate for this smooth, fast-decaying integrand) it has mass
   * 1, and its mass below R equals the Beta(N/2, D/2) CDF of R^2 / (R^2 + r^2) (chi-square of R^2 / sigma^2 for
   * D = infinity) from commons-math, at the quartiles of the law.
   */
  @ParameterizedTest(name = "N = {0}, D = {1}")
  @CsvSource({"2, 1", "3, 8", "784, 128", "3072, 1", "784, 100000", "784, Infinity"})
  void shouldHaveALogDensityWhoseRadiusLawIsNormalizedAndFollowsTheBetaLaw(int n, double d) {
    Physics physics = d == 1 ? new PfgmPhysics(n, 40, 1e-3, Double.POSITIVE_INFINITY, 5, 0)
        : PfgmppPhysics.edmDefaults(n, d);
    double r = d == 1 ? 40 : Double.isInfinite(d) ? 80 : 80 * Math.sqrt(d);
    java.util.function.DoubleUnaryOperator cdf;
    if (Double.isInfinite(d)) {
      ChiSquaredDistribution chi = new ChiSquaredDistribution(n);
      cdf = radius -> chi.cumulativeProbability(radius * radius / (r * r));
    } else {
      BetaDistribution beta = new BetaDistribution(n / 2.0, d / 2);
      cdf = radius -> beta.cumulativeProbability(radius * radius / (radius * radius + r * r));
    }
    double lnSphere = Math.log(2) + n / 2.0 * Math.log(Math.PI)
        - org.apache.commons.math3.special.Gamma.logGamma(n / 2.0);
    // Centre the grid on the median radius; the law's width in ln R is about 1/sqrt(N) for large N.
    double median = 0;
    for (double lo = 1e-6 * r, hi = 1e6 * r; hi / lo > 1 + 1e-12; ) {
      median = Math.sqrt(lo * hi);
      if (cdf.applyAsDouble(median) < 0.5) {
        lo = median;
      } else {
        hi = median;
      }
    }
    int points = 100_000;
    double u0 = Math.log(median) - 30;
    double du = 60.0 / points;
    double[] x = new double[n];
    double mass = 0;
    double[] quartileRadii = new double[3];
    double[] massBelow = new double[3];
    for (int q = 0; q < 3; q++) {
      double target = 0.25 * (q + 1);
      double lo = 1e-6 * r;
      double hi = 1e6 * r;
      while (hi / lo > 1 + 1e-12) {
        double mid = Math.sqrt(lo * hi);
        if (cdf.applyAsDouble(mid) < target) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
      quartileRadii[q] = lo;
    }
    double[] density = new double[points + 1]; // R p_R(R): the density in ln R
    for (int k = 0; k <= points; k++) {
      x[0] = Math.exp(u0 + k * du);
      density[k] = Math.exp(lnSphere + n * (u0 + k * du) + Priors.logDensity(physics, x));
    }
    for (int k = 0; k < points; k++) {
      double cell = 0.5 * du * (density[k] + density[k + 1]);
      mass += cell;
      for (int q = 0; q < 3; q++) {
        double uq = Math.log(quartileRadii[q]) - (u0 + k * du); // where the quartile falls in this cell
        if (uq >= du) {
          massBelow[q] += cell;
        } else if (uq > 0) { // the part of the cell below it, the density interpolated linearly
          double at = density[k] + (density[k + 1] - density[k]) * uq / du;
          massBelow[q] += 0.5 * uq * (density[k] + at);
        }
      }
    }
    assertEquals(1, mass, 1e-6, "the density integrates to 1");
    for (int q = 0; q < 3; q++) {
      // The cut cell is integrated with the density interpolated linearly: an error of about du^2 max|f'| / 8, up to
      // 2e-5 for the narrowest laws here (width 0.025 in ln R); measured 1e-5.
      assertEquals(0.25 * (q + 1), massBelow[q], 5e-5, "mass below quartile " + (q + 1));
    }
  }
}

package io.fieldline.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.distribution.GammaDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.junit.jupiter.api.Test;

class SampleRandomTest {
  private static final double MIN_P = 1e-3;

  @Test
  void shouldGiveTheSameStreamForTheSameSeedIndexAndPurpose() {
    SampleRandom a = new SampleRandom(42, 7, 0);
    SampleRandom b = new SampleRandom(42, 7, 0);
    for (int i = 0; i < 1000; i++) {
      assertEquals(a.nextInt(), b.nextInt());
    }
  }

  @Test
  void shouldSeparateIndicesSeedsAndPurposes() {
    assertNotEquals(new SampleRandom(42, 7, 0).nextDouble(), new SampleRandom(42, 8, 0).nextDouble());
    assertNotEquals(new SampleRandom(42, 7, 0).nextDouble(), new SampleRandom(43, 7, 0).nextDouble());
    assertNotEquals(new SampleRandom(42, 7, 0).nextDouble(), new SampleRandom(42, 7, 1).nextDouble());
    // High bits of seed and index matter too.
    assertNotEquals(new SampleRandom(1L << 40, 0, 0).nextDouble(), new SampleRandom(0, 0, 0).nextDouble());
    assertNotEquals(new SampleRandom(0, 1L << 40, 0).nextDouble(), new SampleRandom(0, 0, 0).nextDouble());
  }

  @Test
  void shouldDrawStandardNormals() {
    SampleRandom r = new SampleRandom(1, 0, 0);
    double[] x = new double[20_000];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextGaussian();
    }
    double p = new KolmogorovSmirnovTest().kolmogorovSmirnovTest(new NormalDistribution(0, 1), x);
    assertTrue(p > MIN_P, "KS p-value " + p);
  }

  @Test
  void shouldDrawGammaForSmallAndLargeShapes() {
    for (double shape : new double[] {0.5, 1, 3.5, 392, 98_304}) {
      SampleRandom r = new SampleRandom(9, (long) shape, 0);
      double[] x = new double[5000];
      for (int i = 0; i < x.length; i++) {
        x[i] = r.nextGamma(shape);
      }
      double p = new KolmogorovSmirnovTest().kolmogorovSmirnovTest(new GammaDistribution(shape, 1), x);
      assertTrue(p > MIN_P, "shape " + shape + ": KS p-value " + p);
    }
  }
}

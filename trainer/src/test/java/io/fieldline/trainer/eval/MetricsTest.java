package io.fieldline.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class MetricsTest {
  private static double[][] gaussian(int n, double[] mean, double[] sd, long seed) {
    Random r = new Random(seed);
    double[][] x = new double[n][mean.length];
    for (double[] row : x) {
      for (int i = 0; i < mean.length; i++) {
        row[i] = mean[i] + sd[i] * r.nextGaussian();
      }
    }
    return x;
  }

  @Test
  void shouldMatchTheClosedFormForDiagonalGaussians() {
    // Diagonal covariances commute: FD = |mu_a - mu_b|^2 + sum_i (sd_a,i - sd_b,i)^2 = 1 + 0.25 + 1 = 2.25.
    double[][] a = gaussian(40_000, new double[] {0, 0, 0}, new double[] {1, 1, 2}, 1);
    double[][] b = gaussian(40_000, new double[] {1, 0, 0}, new double[] {1, 1.5, 1}, 2);
    assertEquals(2.25, Metrics.frechetDistance(a, b), 0.05);
  }

  @Test
  void shouldBeNearZeroForTwoSamplesOfOneDistribution() {
    double[][] a = gaussian(20_000, new double[] {0.5, -1, 2, 0}, new double[] {1, 2, 0.5, 1}, 3);
    double[][] b = gaussian(20_000, new double[] {0.5, -1, 2, 0}, new double[] {1, 2, 0.5, 1}, 4);
    assertTrue(Metrics.frechetDistance(a, b) < 0.01);
  }

  @Test
  void shouldGiveFullPrecisionAndRecallForOneDistributionAndNoneForFarApart() {
    double[][] a = gaussian(400, new double[] {0, 0}, new double[] {1, 1}, 5);
    double[][] b = gaussian(400, new double[] {0, 0}, new double[] {1, 1}, 6);
    double[] same = Metrics.precisionRecall(a, b, 3);
    assertTrue(same[0] > 0.9 && same[1] > 0.9, same[0] + " " + same[1]);
    double[][] far = gaussian(400, new double[] {50, 50}, new double[] {1, 1}, 7);
    double[] apart = Metrics.precisionRecall(a, far, 3);
    assertEquals(0, apart[0]);
    assertEquals(0, apart[1]);
    // A generator that covers only half of the real distribution: high precision, about half the recall.
    double[][] half = java.util.Arrays.stream(b).filter(p -> p[0] > 0).toArray(double[][]::new);
    double[] mode = Metrics.precisionRecall(a, half, 3);
    assertTrue(mode[0] > 0.9 && mode[1] < 0.75, mode[0] + " " + mode[1]);
  }
}

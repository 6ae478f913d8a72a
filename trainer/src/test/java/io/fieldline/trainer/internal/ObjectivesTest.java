package io.fieldline.trainer.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.ExactField;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import java.util.Random;
import org.apache.commons.math3.distribution.BetaDistribution;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.junit.jupiter.api.Test;

class ObjectivesTest {
  private static double[][] images(int count, int n, long seed) {
    Random r = new Random(seed);
    double[][] x = new double[count][n];
    for (double[] row : x) {
      for (int i = 0; i < n; i++) {
        row[i] = 2 * r.nextDouble() - 1;
      }
    }
    return x;
  }

  @Test
  void shouldPerturbPfgmDataWithTheOfficialKernelScales() {
    // Spec 15.8(b): |y - x| / s ~ sigma sqrt(N) and E[z] / s = sigma sqrt(2/pi); so E[z / |y - x|] = sqrt(2/pi)/sqrt(N).
    int n = 784;
    PfgmPhysics physics = PfgmPhysics.recommended(n, 22);
    int m = PfgmPhysics.recommendedM(n, 22);
    PfgmObjective objective = new PfgmObjective(physics, new ImageShape(1, 28, 28), m);
    double[][] data = images(200, n, 1);
    double ratioSum = 0;
    double maxScale = 0;
    int rows = 0;
    for (long step = 1; step <= 5; step++) {
      TrainingBatch b = objective.batch(data, 200, 9, step);
      for (int i = 0; i < b.size(); i++) {
        double d2 = 0;
        for (int k = 0; k < n; k++) {
          double diff = b.inputs()[i * n + k] - data[i][k];
          d2 += diff * diff;
        }
        double dist = Math.sqrt(d2);
        ratioSum += b.cond()[i] / dist;
        maxScale = Math.max(maxScale, dist / (PfgmPhysics.SIGMA * Math.sqrt(n)));
        rows++;
      }
    }
    assertEquals(Math.sqrt(2 / Math.PI) / Math.sqrt(n), ratioSum / rows, 0.1 * Math.sqrt(2 / Math.PI) / Math.sqrt(n));
    assertTrue(maxScale <= Math.pow(1 + PfgmPhysics.TAU, m) * 1.1, "largest scale " + maxScale);
    assertTrue(maxScale > Math.pow(1 + PfgmPhysics.TAU, m) * 0.5, "the multi-scale kernel reaches its top");
  }

  @Test
  void shouldTargetTheExactFieldOfAllCharges() {
    int n = 16;
    PfgmPhysics physics = new PfgmPhysics(n, 40, 1e-3, 3000, 5, 0);
    ImageShape shape = new ImageShape(1, 4, 4);
    double[][] data = images(32, n, 2);
    TrainingBatch b = new PfgmObjective(physics, shape, 100).batch(data, 8, 3, 7);
    ExactField field = ExactField.builder().setData(data).setPhysics(physics).setShape(shape).build();
    for (int i = 0; i < 8; i++) {
      double[] y = new double[n];
      for (int k = 0; k < n; k++) {
        y[k] = b.inputs()[i * n + k];
      }
      double[][] out = new double[1][n + 1];
      field.evaluate(new double[][] {y}, new double[] {b.cond()[i]}, out, 1);
      for (int k = 0; k <= n; k++) {
        assertEquals(out[0][k], b.targets()[i * (n + 1) + k], 1e-4 * (1 + Math.abs(out[0][k])));
      }
    }
  }

  @Test
  void shouldDrawPfgmppNoiseWithTheClippedBetaPrimeRadius() {
    int n = 64;
    double d = 16;
    PfgmppObjective objective = new PfgmppObjective(PfgmppPhysics.edmDefaults(n, d));
    double[][] data = images(500, n, 4);
    TrainingBatch b = objective.batch(data, 500, 5, 1);
    double[] beta = new double[b.size()];
    for (int i = 0; i < b.size(); i++) {
      double r2 = 0;
      for (int k = 0; k < n; k++) {
        double diff = b.inputs()[i * n + k] - b.targets()[i * n + k];
        r2 += diff * diff;
      }
      double sigma = b.cond()[i];
      double ratio = r2 / (sigma * sigma * d);
      beta[i] = ratio / (1 + ratio);
      double sd = 0.5;
      assertEquals((sigma * sigma + sd * sd) / (sigma * sd * sigma * sd), b.weights()[i], 1e-3 * b.weights()[i]);
    }
    // The 1e-3 clip does not bind for Beta(32, 8): the law is Beta(N/2, D/2) (float32 inputs: tolerance in KS).
    double p = new KolmogorovSmirnovTest().kolmogorovSmirnovTest(new BetaDistribution(n / 2.0, d / 2.0), beta);
    assertTrue(p > 1e-3, "KS p-value " + p);
  }
}

package io.fieldline.core;

import java.util.Random;

/** Small synthetic data sets for tests. */
final class TestData {
  private TestData() {}

  /** {@code count} points uniform in [-1, 1]^n, from a fixed seed. */
  static double[][] uniformPoints(int count, int n, long seed) {
    Random random = new Random(seed);
    double[][] points = new double[count][n];
    for (double[] p : points) {
      for (int i = 0; i < n; i++) {
        p[i] = 2 * random.nextDouble() - 1;
      }
    }
    return points;
  }

  /** The exact field of the points for the given physics, as a 1 x 1 x n (or 1 x h x w) image model. */
  static ExactField field(double[][] points, Physics physics) {
    int n = points[0].length;
    return ExactField.builder().setData(points).setPhysics(physics).setShape(new ImageShape(1, 1, n)).build();
  }

  static double distance(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(sum);
  }

  static double norm(double[] a) {
    return distance(a, new double[a.length]);
  }

  /** Index of the nearest point. */
  static int nearest(double[][] points, double[] x) {
    int best = 0;
    for (int j = 1; j < points.length; j++) {
      if (distance(points[j], x) < distance(points[best], x)) {
        best = j;
      }
    }
    return best;
  }
}

package io.fieldline.trainer.eval;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * Sample-quality metrics in a feature space.
 *
 * <ul>
 *   <li>Frechet distance between Gaussian fits: |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), with the trace of
 *       the square root computed as the sum of square roots of the eigenvalues of S_a^(1/2) S_b S_a^(1/2) (symmetric,
 *       so stable).</li>
 *   <li>Precision and recall of Kynkaanniemi et al. (2019): the share of generated points inside the k-NN balls of
 *       the real ones, and of real points inside the k-NN balls of the generated ones (k = 3).</li>
 * </ul>
 */
public final class Metrics {
  private Metrics() {}

  /** Frechet distance between the Gaussian fits of two feature sets (rows are points). */
  public static double frechetDistance(double[][] a, double[][] b) {
    double[] muA = mean(a);
    double[] muB = mean(b);
    RealMatrix sa = covariance(a, muA);
    RealMatrix sb = covariance(b, muB);
    EigenDecomposition ea = new EigenDecomposition(sa);
    double[] la = ea.getRealEigenvalues();
    RealMatrix u = ea.getV();
    int d = la.length;
    RealMatrix rootA = new Array2DRowRealMatrix(d, d);
    for (int i = 0; i < d; i++) {
      rootA.setEntry(i, i, Math.sqrt(Math.max(la[i], 0)));
    }
    rootA = u.multiply(rootA).multiply(u.transpose());
    RealMatrix middle = rootA.multiply(sb).multiply(rootA);
    middle = middle.add(middle.transpose()).scalarMultiply(0.5); // symmetric up to rounding
    double traceRoot = 0;
    for (double l : new EigenDecomposition(middle).getRealEigenvalues()) {
      traceRoot += Math.sqrt(Math.max(l, 0));
    }
    double dist = 0;
    for (int i = 0; i < d; i++) {
      dist += (muA[i] - muB[i]) * (muA[i] - muB[i]);
    }
    return dist + sa.getTrace() + sb.getTrace() - 2 * traceRoot;
  }

  /** {precision, recall} with k-nearest-neighbour manifolds. */
  public static double[] precisionRecall(double[][] real, double[][] generated, int k) {
    double[] realRadius = kthNeighbourDistances(real, k);
    double[] genRadius = kthNeighbourDistances(generated, k);
    return new double[] {coverage(generated, real, realRadius), coverage(real, generated, genRadius)};
  }

  /** Share of {@code points} within the ball of some {@code centres[j]} of radius {@code radius[j]}. */
  private static double coverage(double[][] points, double[][] centres, double[] radius) {
    int inside = 0;
    for (double[] p : points) {
      for (int j = 0; j < centres.length; j++) {
        if (distanceSquared(p, centres[j]) <= radius[j] * radius[j]) {
          inside++;
          break;
        }
      }
    }
    return (double) inside / points.length;
  }

  private static double[] kthNeighbourDistances(double[][] x, int k) {
    double[] out = new double[x.length];
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x.length; j++) {
        d[j] = i == j ? Double.POSITIVE_INFINITY : distanceSquared(x[i], x[j]);
      }
      double[] sorted = d.clone();
      java.util.Arrays.sort(sorted);
      out[i] = Math.sqrt(sorted[k - 1]);
    }
    return out;
  }

  private static double distanceSquared(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      double t = a[i] - b[i];
      s += t * t;
    }
    return s;
  }

  private static double[] mean(double[][] x) {
    double[] mu = new double[x[0].length];
    for (double[] row : x) {
      for (int i = 0; i < mu.length; i++) {
        mu[i] += row[i];
      }
    }
    for (int i = 0; i < mu.length; i++) {
      mu[i] /= x.length;
    }
    return mu;
  }

  private static RealMatrix covariance(double[][] x, double[] mu) {
    int d = mu.length;
    double[][] c = new double[d][d];
    for (double[] row : x) {
      for (int i = 0; i < d; i++) {
        double a = row[i] - mu[i];
        for (int j = i; j < d; j++) {
          c[i][j] += a * (row[j] - mu[j]);
        }
      }
    }
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        c[i][j] /= x.length - 1;
        c[j][i] = c[i][j];
      }
    }
    return new Array2DRowRealMatrix(c, false);
  }
}

package io.fieldline.trainer.internal;

import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Priors;
import io.fieldline.core.SampleRandom;

/**
 * PFGM++ training (docs/PHYSICS.md section 8): EDM's denoising objective with the noise drawn from the p_r kernel:
 * ln sigma ~ N(-1.2, 1.2^2), r = sigma sqrt(D), radius R = r sqrt(B / (1 - B)), B ~ Beta(N/2, D/2) clipped to
 * [1e-3, 1 - 1e-3], uniform direction; weight (sigma^2 + sigma_data^2) / (sigma sigma_data)^2 on the squared error
 * of the denoiser (summed over pixels).
 */
public final class PfgmppObjective implements Objective {
  /** EDM's log-normal noise distribution. */
  static final double P_MEAN = -1.2;
  static final double P_STD = 1.2;
  private static final double B_CLIP = 1e-3;

  private final PfgmppPhysics physics;

  public PfgmppObjective(PfgmppPhysics physics) {
    this.physics = physics;
  }

  @Override
  public TrainingBatch batch(double[][] images, int rows, long seed, long step) {
    int n = physics.dimension();
    double d = physics.augmentedDimensions();
    double sd = physics.sigmaData();
    float[] inputs = new float[rows * n];
    float[] cond = new float[rows];
    float[] targets = new float[rows * n];
    float[] weights = new float[rows];
    for (int i = 0; i < rows; i++) {
      SampleRandom r = new SampleRandom(seed ^ 0x50464d2bL, step, 16 + i);
      double sigma = Math.exp(P_MEAN + P_STD * r.nextGaussian());
      double radius = clippedRadius(n, d, sigma, r);
      double[] u = Priors.direction(n, r);
      for (int k = 0; k < n; k++) {
        double y = images[i][k];
        inputs[i * n + k] = (float) (y + radius * u[k]);
        targets[i * n + k] = (float) y;
      }
      cond[i] = (float) sigma;
      weights[i] = (float) ((sigma * sigma + sd * sd) / (sigma * sd * sigma * sd));
    }
    return new TrainingBatch(rows, inputs, cond, targets, weights);
  }

  /** The kernel radius with the official clip of B to [1e-3, 1 - 1e-3] (none in the D = infinity limit). */
  static double clippedRadius(int n, double d, double sigma, SampleRandom r) {
    double radius = Priors.pfgmppRadius(n, d, sigma, r);
    if (Double.isInfinite(d)) {
      return radius;
    }
    double ratio = radius * radius / (sigma * sigma * d); // B / (1 - B)
    double lo = B_CLIP / (1 - B_CLIP);
    double hi = (1 - B_CLIP) / B_CLIP;
    return sigma * Math.sqrt(d * Math.min(Math.max(ratio, lo), hi));
  }
}

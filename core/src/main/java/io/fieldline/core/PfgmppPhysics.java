package io.fieldline.core;

/**
 * Constants of a PFGM++ model with D augmented dimensions (docs/PHYSICS.md sections 7-9).
 *
 * <p>The model is an EDM-style denoiser D(x, sigma) trained with the p_r kernel, r = sigma sqrt(D). Samples start
 * at radius sigma_max sqrt(D) sqrt(B / (1 - B)), B ~ Beta(N/2, D/2), with a uniform direction, and follow
 * dx/dsigma = (x - D(x, sigma)) / sigma on EDM's schedule sigma_i = (sigma_max^(1/rho) + i/(n-1)
 * (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho, then sigma_n = 0.
 *
 * <p>{@code augmentedDimensions} may be {@link Double#POSITIVE_INFINITY}: the diffusion (EDM) limit, with a
 * Gaussian kernel and prior.
 *
 * @param dimension N, the data dimension
 * @param augmentedDimensions D >= 1, or infinity
 * @param sigmaMax start of the schedule and scale of the prior (80 in the official code)
 * @param sigmaMin last positive sigma of the schedule (0.002)
 * @param rho the schedule's curvature (7)
 * @param sigmaData the data standard deviation of EDM's preconditioning (0.5)
 */
public record PfgmppPhysics(int dimension, double augmentedDimensions, double sigmaMax, double sigmaMin, double rho,
    double sigmaData) implements Physics {

  public PfgmppPhysics {
    Checks.positiveInt("dimension", dimension);
    if (Double.isNaN(augmentedDimensions) || augmentedDimensions < 1) {
      throw new IllegalArgumentException("D (augmented dimensions) must be >= 1, got " + augmentedDimensions);
    }
    Checks.positive("sigmaMax", sigmaMax);
    Checks.positive("sigmaMin", sigmaMin);
    if (sigmaMin >= sigmaMax) {
      throw new IllegalArgumentException("sigmaMin must be below sigmaMax, got " + sigmaMin + " >= " + sigmaMax);
    }
    Checks.positive("rho", rho);
    Checks.positive("sigmaData", sigmaData);
  }

  /** The official defaults for images below 256x256x3: sigma_max 80, sigma_min 0.002, rho 7, sigma_data 0.5. */
  public static PfgmppPhysics edmDefaults(int dimension, double augmentedDimensions) {
    return new PfgmppPhysics(dimension, augmentedDimensions, 80, 0.002, 7, 0.5);
  }

  /** True in the D = infinity (diffusion) limit. */
  public boolean isDiffusionLimit() {
    return Double.isInfinite(augmentedDimensions);
  }

  @Override
  public int outputDimension() {
    return dimension;
  }

  @Override
  public String describe() {
    return String.format(java.util.Locale.ROOT, "pfgm++(N=%d, D=%s, sigma_max=%.4g, sigma_min=%.3g, rho=%.3g)", dimension,
        isDiffusionLimit() ? "inf" : String.format(java.util.Locale.ROOT, "%.6g", augmentedDimensions),
        sigmaMax, sigmaMin, rho);
  }
}

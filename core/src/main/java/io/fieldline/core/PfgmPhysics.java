package io.fieldline.core;

/**
 * Constants of a PFGM (D = 1) model, as in the official code (docs/PHYSICS.md sections 3, 5, 6).
 *
 * <p>Samples start on the plane z = {@code zMax} with a radius clipped to [1, {@code upperNorm}] and are carried
 * down the backward ODE dx/dz = v_x / (v_z + 1e-5) to z = {@code zMin}. The network output is the normalized
 * (N+1)-dimensional field sqrt(N) E / (|E| + {@code gamma}). Below z = {@code zExp} the sampler rebuilds v_z from
 * |v_x| (the "z_exp" substitution); {@code zExp = 0} turns that off.
 *
 * @param dimension N, the data dimension (at least 1)
 * @param zMax the z of the prior plane (positive)
 * @param zMin where the backward ODE stops (0 < zMin < zMax); 1e-3 in the official code
 * @param upperNorm the prior radius clip (at least 1); use {@link Double#POSITIVE_INFINITY} for no clip
 * @param gamma the smoothing constant of the normalized field (5 in the official code; 0 < gamma)
 * @param zExp the z below which v_z is rebuilt from |v_x| (0 disables; 5 for CIFAR-10 in the official code)
 */
public record PfgmPhysics(int dimension, double zMax, double zMin, double upperNorm, double gamma, double zExp)
    implements Physics {
  /** Official training constants: sigma = 0.01 and tau = 0.03 (docs/PHYSICS.md section 3). */
  public static final double SIGMA = 0.01;
  /** Official training constant tau. */
  public static final double TAU = 0.03;
  /** Official z_min. */
  public static final double Z_MIN = 1e-3;
  /** Official gamma. */
  public static final double GAMMA = 5.0;

  public PfgmPhysics {
    Checks.positiveInt("dimension", dimension);
    Checks.positive("zMax", zMax);
    Checks.positive("zMin", zMin);
    if (zMin >= zMax) {
      throw new IllegalArgumentException("zMin must be below zMax, got zMin=" + zMin + " zMax=" + zMax);
    }
    if (Double.isNaN(upperNorm) || upperNorm < 1) {
      throw new IllegalArgumentException("upperNorm must be >= 1 (or infinity for no clip), got " + upperNorm);
    }
    Checks.positive("gamma", gamma);
    Checks.nonNegative("zExp", zExp);
  }

  /** The constants of the official CIFAR-10 configuration: N = 3072, z_max = 40, upper_norm = 3000, z_exp = 5. */
  public static PfgmPhysics cifar10() {
    return new PfgmPhysics(3072, 40, Z_MIN, 3000, GAMMA, 5);
  }

  /**
   * The constants the official {@code hyper-parameters.py} recommends for data of dimension N whose images have
   * average Euclidean norm {@code averageNorm} (in [-1, 1] pixel units): M = int(0.75 ln(|x|^2 / (2 sqrt(N)
   * sigma^2)) / ln(1 + tau)) + 1, z_max = sqrt(2/pi) sigma (1+tau)^M, upper_norm = sqrt(N) sigma (1+tau)^M.
   * z_exp is off (0): the substitution is a training-error heuristic, not needed by exact fields.
   */
  public static PfgmPhysics recommended(int dimension, double averageNorm) {
    Checks.positiveInt("dimension", dimension);
    Checks.positive("averageNorm", averageNorm);
    int m = recommendedM(dimension, averageNorm);
    double scale = Math.pow(1 + TAU, m);
    double zMax = Math.sqrt(2 / Math.PI) * SIGMA * scale;
    double upperNorm = Math.max(1, Math.sqrt(dimension) * SIGMA * scale);
    return new PfgmPhysics(dimension, zMax, Z_MIN, upperNorm, GAMMA, 0);
  }

  /** The perturbation-kernel depth M of {@code hyper-parameters.py} (at least 1). */
  public static int recommendedM(int dimension, double averageNorm) {
    double ratio = averageNorm * averageNorm / (2 * Math.sqrt(dimension) * SIGMA * SIGMA);
    return Math.max(1, (int) (0.75 * Math.log(ratio) / Math.log(1 + TAU)) + 1);
  }

  /** A copy with another z_exp. */
  public PfgmPhysics withZExp(double newZExp) {
    return new PfgmPhysics(dimension, zMax, zMin, upperNorm, gamma, newZExp);
  }

  /** A copy with another prior clip. */
  public PfgmPhysics withUpperNorm(double newUpperNorm) {
    return new PfgmPhysics(dimension, zMax, zMin, newUpperNorm, gamma, zExp);
  }

  @Override
  public double augmentedDimensions() {
    return 1;
  }

  @Override
  public int outputDimension() {
    return dimension + 1;
  }

  @Override
  public String describe() {
    return String.format(java.util.Locale.ROOT, "pfgm(N=%d, z_max=%.4g, z_min=%.3g, upper_norm=%.4g, gamma=%.3g, z_exp=%.3g)",
        dimension, zMax, zMin, upperNorm, gamma, zExp);
  }
}

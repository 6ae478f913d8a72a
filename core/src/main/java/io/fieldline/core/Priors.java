package io.fieldline.core;

import io.fieldline.core.internal.SpecialFunctions;

/**
 * Prior draws: where a sample starts its backward ODE. Pure functions of (physics, seed, index).
 *
 * <ul>
 *   <li>PFGM (docs/PHYSICS.md section 5): x0 = R u on the plane z = z_max, R = z_max sqrt(B / (1 - B)),
 *       B ~ Beta(N/2, 1/2), then R is clipped to [1, upper_norm] (the official code's clip; with its CIFAR-10
 *       constants about half of all draws are clipped).</li>
 *   <li>PFGM++ (section 9): x0 = R u at sigma = sigma_max, R = sigma_max sqrt(D) sqrt(B / (1 - B)),
 *       B ~ Beta(N/2, D/2), no clip. D = infinity gives x0 = sigma_max g, g ~ N(0, I).</li>
 * </ul>
 *
 * <p>B / (1 - B) is drawn as G_a / G_b with independent G_a ~ Gamma(N/2), G_b ~ Gamma(D/2): never 1 - B, so
 * nothing cancels or divides by zero for N up to 10^6 and D up to 10^9. The direction u is a normalized vector of
 * N Gaussians. The radius and the direction come from separate purposes of the sample's {@link SampleRandom}.
 */
public final class Priors {
  private Priors() {}

  /** The prior radius of image (seed, index), after the PFGM clip. */
  public static double radius(Physics physics, long seed, long index) {
    return radius(physics, new SampleRandom(seed, index, SampleRandom.PURPOSE_RADIUS));
  }

  /** The full prior draw (length N) of image (seed, index). */
  public static double[] draw(Physics physics, long seed, long index) {
    double r = radius(physics, seed, index);
    double[] x = direction(physics.dimension(), new SampleRandom(seed, index, SampleRandom.PURPOSE_DIRECTION));
    for (int i = 0; i < x.length; i++) {
      x[i] *= r;
    }
    return x;
  }

  /**
   * The value of the ODE variable where the prior lives: z_max for PFGM, sigma_max for PFGM++.
   */
  public static double start(Physics physics) {
    return physics instanceof PfgmPhysics p ? p.zMax() : ((PfgmppPhysics) physics).sigmaMax();
  }

  static double radius(Physics physics, SampleRandom random) {
    double halfN = physics.dimension() / 2.0;
    if (physics instanceof PfgmPhysics p) {
      double ga = random.nextGamma(halfN);
      double gb = random.nextGamma(0.5);
      double r = p.zMax() * Math.sqrt(ga / gb);
      return Math.min(Math.max(r, 1.0), p.upperNorm());
    }
    PfgmppPhysics pp = (PfgmppPhysics) physics;
    return pfgmppRadius(physics.dimension(), pp.augmentedDimensions(), pp.sigmaMax(), random);
  }

  /**
   * A radius of the PFGM++ perturbation kernel at noise level sigma: R = sigma sqrt(D) sqrt(B / (1 - B)),
   * B ~ Beta(N/2, D/2) (the prior is the case sigma = sigma_max; training draws it at every sigma). D = infinity
   * gives sigma times a chi_N variate (the Gaussian kernel).
   */
  public static double pfgmppRadius(int n, double d, double sigma, SampleRandom random) {
    double ga = random.nextGamma(n / 2.0);
    if (Double.isInfinite(d)) {
      return sigma * Math.sqrt(2 * ga);
    }
    double gb = random.nextGamma(d / 2);
    return sigma * Math.sqrt(d * ga / gb);
  }

  /**
   * ln of the prior's density at {@code x} (nats; per unit volume of R^N in the model's units), the density that
   * {@link #draw} samples: the Poisson kernel of N + D dimensions seen on the N data dimensions,
   * p(x) = Gamma((N + D) / 2) / (pi^(N/2) Gamma(D / 2)) r^D / (r^2 + |x|^2)^((N + D) / 2), with D = 1 and r = z_max for
   * PFGM and r = sigma_max sqrt(D) for PFGM++ (docs/LIKELIHOOD.md section 2); D = infinity is the Gaussian
   * N(0, sigma_max^2 I). Written as -N ln r - ((N + D) / 2) log1p(|x|^2 / r^2) plus the constant, so nothing
   * overflows for N + D up to 10^9.
   *
   * <p>PFGM's draws are clipped to radii in [1, upper_norm], which puts point masses on two spheres that no density
   * describes; this is the unclipped law, the flow's true starting distribution (the clip is a sampling device), so
   * a likelihood computed with it is that of the model without the clip.
   *
   * @throws IllegalArgumentException if x has the wrong length or is not finite
   */
  public static double logDensity(Physics physics, double[] x) {
    int n = physics.dimension();
    if (x.length != n) {
      throw new IllegalArgumentException("x has " + x.length + " values, the prior lives in " + n + " dimensions");
    }
    double sumSq = 0;
    for (double v : x) {
      sumSq += v * v;
    }
    if (!Double.isFinite(sumSq)) {
      throw new IllegalArgumentException("x is not finite");
    }
    double d;
    double r;
    if (physics instanceof PfgmPhysics p) {
      d = 1;
      r = p.zMax();
    } else {
      PfgmppPhysics pp = (PfgmppPhysics) physics;
      d = pp.augmentedDimensions();
      if (Double.isInfinite(d)) {
        double s = pp.sigmaMax();
        return -0.5 * n * Math.log(2 * Math.PI * s * s) - sumSq / (2 * s * s);
      }
      r = pp.sigmaMax() * Math.sqrt(d);
    }
    double norm = SpecialFunctions.lnGamma((n + d) / 2) - 0.5 * n * Math.log(Math.PI) - SpecialFunctions.lnGamma(d / 2);
    return norm - n * Math.log(r) - 0.5 * (n + d) * Math.log1p(sumSq / (r * r));
  }

  /** A uniformly random unit vector of the given dimension. */
  public static double[] direction(int n, SampleRandom random) {
    double[] g = new double[n];
    double sumSq;
    do {
      sumSq = 0;
      for (int i = 0; i < n; i++) {
        g[i] = random.nextGaussian();
        sumSq += g[i] * g[i];
      }
    } while (sumSq == 0); // only possible for tiny n; redraw rather than divide by zero
    double inv = 1 / Math.sqrt(sumSq);
    for (int i = 0; i < n; i++) {
      g[i] *= inv;
    }
    return g;
  }
}

package io.fieldline.core;

/**
 * Paths between latents (points on the prior's start surface: z = z_max for PFGM, sigma = sigma_max for PFGM++) that
 * keep the prior's shape: the direction moves along the great circle between the two directions (spherical
 * interpolation) and the radius moves linearly. Both priors are a radius law times a uniform direction, so every
 * point of such a path is as typical a latent as its ends, where a straight line between two latents would pass
 * through the low-radius interior no sample comes from.
 */
public final class Latents {
  private Latents() {}

  /**
   * The latent at fraction {@code t} of the way from {@code a} to {@code b} (t = 0 gives a, t = 1 gives b, exactly).
   *
   * @throws IllegalArgumentException for lengths that differ, a zero vector, or t outside [0, 1]
   */
  public static double[] slerp(double[] a, double[] b, double t) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("latents of different lengths: " + a.length + " and " + b.length);
    }
    if (!(t >= 0 && t <= 1)) {
      throw new IllegalArgumentException("t must be in [0, 1], got " + t);
    }
    if (t == 0) {
      return a.clone();
    }
    if (t == 1) {
      return b.clone();
    }
    double ra = norm(a);
    double rb = norm(b);
    if (ra == 0 || rb == 0) {
      throw new IllegalArgumentException("a latent of norm 0 has no direction");
    }
    double cos = 0;
    for (int i = 0; i < a.length; i++) {
      cos += a[i] / ra * (b[i] / rb);
    }
    double omega = Math.acos(Math.max(-1, Math.min(1, cos)));
    double r = (1 - t) * ra + t * rb;
    double[] out = new double[a.length];
    if (omega < 1e-9) { // the same direction: only the radius moves
      for (int i = 0; i < a.length; i++) {
        out[i] = a[i] / ra * r;
      }
      return out;
    }
    double wa = Math.sin((1 - t) * omega) / Math.sin(omega);
    double wb = Math.sin(t * omega) / Math.sin(omega);
    for (int i = 0; i < a.length; i++) {
      out[i] = r * (wa * a[i] / ra + wb * b[i] / rb);
    }
    return out;
  }

  /** The Euclidean norm. */
  public static double norm(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v * v;
    }
    return Math.sqrt(s);
  }
}

package io.fieldline.core.internal;

/** Special functions the densities need, in double precision, with no dependency. */
public final class SpecialFunctions {
  private SpecialFunctions() {}

  private static final double HALF_LN_TWO_PI = 0.5 * Math.log(2 * Math.PI);

  /**
   * ln Gamma(x) for x > 0: the Stirling series with five correction terms at x >= 10 (its first omitted term is
   * below 2e-14 there), the recurrence Gamma(x) = Gamma(x + 1) / x below that. Absolute error about 1e-13 for
   * moderate x; relative error about 1e-15 for large x (the size of ln Gamma's own rounding).
   *
   * @throws IllegalArgumentException for x <= 0 or NaN
   */
  public static double lnGamma(double x) {
    if (!(x > 0)) {
      throw new IllegalArgumentException("lnGamma needs x > 0, got " + x);
    }
    if (Double.isInfinite(x)) {
      return Double.POSITIVE_INFINITY;
    }
    double shift = 0;
    while (x < 10) {
      shift += Math.log(x);
      x += 1;
    }
    double inv = 1 / x;
    double inv2 = inv * inv;
    double series = inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680
        - inv2 * (1.0 / 1188)))));
    return (x - 0.5) * Math.log(x) - x + HALF_LN_TWO_PI + series - shift;
  }
}

package io.fieldline.core.internal;

import io.fieldline.core.PfgmPhysics;

/**
 * PFGM's backward ODE dx/dz = v_x / (v_z + 1e-5) (docs/PHYSICS.md section 6), with the z_exp substitution: below
 * z_exp the predicted v_z is replaced by -sqrt(N) z / (sqrt(a^2 + z^2) + gamma), a = gamma n / (1 - n),
 * n = |v_x| / sqrt(N).
 */
public final class PfgmDynamics implements Dynamics {
  /** The official bias added to v_z (v_z is negative in practice). */
  static final double VZ_BIAS = 1e-5;

  private final int n;
  private final double sqrtN;
  private final double gamma;
  private final double zExp;

  public PfgmDynamics(PfgmPhysics physics) {
    this.n = physics.dimension();
    this.sqrtN = Math.sqrt(n);
    this.gamma = physics.gamma();
    this.zExp = physics.zExp();
  }

  @Override
  public void derivative(double[] x, double z, double[] out, double[] dxdz) {
    double vz = out[n];
    if (z < zExp) {
      double sumSq = 0;
      for (int i = 0; i < n; i++) {
        sumSq += out[i] * out[i];
      }
      // n_hat = a / (a + gamma) inverted; clamp below 1 so a network that overshoots cannot make a negative.
      double norm = Math.min(Math.sqrt(sumSq) / sqrtN, 1 - 1e-12);
      double a = gamma * norm / (1 - norm);
      double e = Math.sqrt(a * a + z * z);
      vz = -sqrtN * z / (e + gamma);
    }
    double inv = 1 / (vz + VZ_BIAS);
    for (int i = 0; i < n; i++) {
      dxdz[i] = out[i] * inv;
    }
  }
}

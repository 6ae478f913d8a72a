package io.fieldline.core.internal;

/** The PFGM++ / EDM probability-flow ODE dx/dsigma = (x - D(x, sigma)) / sigma (docs/PHYSICS.md section 7). */
public final class PfgmppDynamics implements Dynamics {
  @Override
  public void derivative(double[] x, double sigma, double[] denoised, double[] dxds) {
    double inv = 1 / sigma;
    for (int i = 0; i < x.length; i++) {
      dxds[i] = (x[i] - denoised[i]) * inv;
    }
  }
}

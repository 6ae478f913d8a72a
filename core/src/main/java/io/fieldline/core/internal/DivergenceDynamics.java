package io.fieldline.core.internal;

/**
 * A sampling ODE augmented with integrals of divergence estimates: the state is (x, l_1 .. l_K) with
 * dx/ds = f(x, s), the base dynamics, and dl_k/ds = the k-th estimate of div_x f at (x, s). The estimates are computed
 * by the caller (from extra network rows) and handed over after the base model's output, so the integrator sees one
 * output vector per evaluation: {@code (model output at x, estimate_1 .. estimate_K)}.
 */
public final class DivergenceDynamics implements Dynamics {
  private final Dynamics base;
  private final int n;
  private final int outDim;
  private final int estimates;
  private final double[] x;
  private final double[] out;
  private final double[] dxds;

  /**
   * @param base the sampling ODE in s
   * @param n the data dimension N
   * @param outDim the base model's output length
   * @param estimates K, the integrals carried after x
   */
  public DivergenceDynamics(Dynamics base, int n, int outDim, int estimates) {
    this.base = base;
    this.n = n;
    this.outDim = outDim;
    this.estimates = estimates;
    this.x = new double[n];
    this.out = new double[outDim];
    this.dxds = new double[n];
  }

  /** N, the length of x inside the augmented state. */
  public int dimension() {
    return n;
  }

  /** The base velocity dx/ds at a plain point x (length N) from the model output there. */
  public void velocity(double[] point, double s, double[] modelOut, double[] velocity) {
    base.derivative(point, s, modelOut, velocity);
  }

  /** The output vector {@link #derivative} expects: the model's output at x, then the K divergence estimates. */
  public double[] augment(double[] modelOut, double[] divergenceEstimates) {
    if (divergenceEstimates.length != estimates) {
      throw new IllegalArgumentException(divergenceEstimates.length + " estimates, expected " + estimates);
    }
    double[] all = java.util.Arrays.copyOf(modelOut, outDim + estimates);
    System.arraycopy(divergenceEstimates, 0, all, outDim, estimates);
    return all;
  }

  @Override
  public void derivative(double[] state, double s, double[] augmentedOut, double[] dstate) {
    System.arraycopy(state, 0, x, 0, n);
    System.arraycopy(augmentedOut, 0, out, 0, outDim);
    base.derivative(x, s, out, dxds);
    System.arraycopy(dxds, 0, dstate, 0, n);
    System.arraycopy(augmentedOut, outDim, dstate, n, estimates);
  }
}

package io.fieldline.core.internal;

/**
 * Euler or Heun on a fixed grid of nodes s_0, s_1, ..., s_n of the model variable (z or sigma).
 *
 * <p>Euler: x_{i+1} = x_i + (s_{i+1} - s_i) f(x_i, s_i), NFE = n. Heun: the trapezoidal corrector with
 * f(x_hat, s_{i+1}) at the Euler prediction x_hat, except on the last step, which is plain Euler (the official
 * improved-Euler sampler of PFGM, and EDM's sampler whose last node is sigma = 0), NFE = 2n - 1.
 */
public final class GridIntegrator implements Integrator {
  private final double[] nodes;
  private final boolean heun;
  private final Dynamics dynamics;
  private final double[] x;
  private final double[] predicted;
  private final double[] slope;
  private final double[] slope2;
  private int step;
  private boolean correcting;
  private int nfe;

  /**
   * @param nodes the grid, at least two nodes, strictly monotone
   * @param heun true for Heun, false for Euler
   * @param dynamics the ODE right-hand side
   * @param x0 the initial state (copied)
   */
  public GridIntegrator(double[] nodes, boolean heun, Dynamics dynamics, double[] x0) {
    if (nodes.length < 2) {
      throw new IllegalArgumentException("a grid needs at least two nodes");
    }
    this.nodes = nodes.clone();
    this.heun = heun;
    this.dynamics = dynamics;
    this.x = x0.clone();
    this.predicted = new double[x0.length];
    this.slope = new double[x0.length];
    this.slope2 = new double[x0.length];
  }

  @Override
  public boolean done() {
    return step == nodes.length - 1;
  }

  @Override
  public double[] point() {
    return correcting ? predicted : x;
  }

  @Override
  public double cond() {
    return correcting ? nodes[step + 1] : nodes[step];
  }

  @Override
  public void accept(double[] out) {
    nfe++;
    double h = nodes[step + 1] - nodes[step];
    if (!correcting) {
      dynamics.derivative(x, nodes[step], out, slope);
      for (int i = 0; i < x.length; i++) {
        predicted[i] = x[i] + h * slope[i];
      }
      if (heun && step < nodes.length - 2) {
        correcting = true;
      } else {
        System.arraycopy(predicted, 0, x, 0, x.length);
        step++;
      }
    } else {
      dynamics.derivative(predicted, nodes[step + 1], out, slope2);
      for (int i = 0; i < x.length; i++) {
        x[i] += 0.5 * h * (slope[i] + slope2[i]);
      }
      correcting = false;
      step++;
    }
  }

  @Override
  public double[] state() {
    return x;
  }

  @Override
  public int nfe() {
    return nfe;
  }

  @Override
  public double progress() {
    return (double) step / (nodes.length - 1);
  }
}

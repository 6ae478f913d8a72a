package io.fieldline.core.internal;

/**
 * The right-hand side of a sampling ODE in the model's own variable s (z for PFGM, sigma for PFGM++), built from a
 * field-model output. Solvers are written once against this interface.
 */
public interface Dynamics {
  /** Writes dx/ds at (x, s) into {@code dxds}, given the model output {@code out} at (x, s). */
  void derivative(double[] x, double s, double[] out, double[] dxds);

}

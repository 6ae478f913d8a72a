package io.fieldline.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * Convergence orders of the fixed-grid solvers and the tolerance of RK45, on ODEs with closed-form solutions. The
 * solvers are driven exactly as the engine drives them (point, cond, accept), with a dynamics that ignores the model
 * output and evaluates the right-hand side itself.
 */
class SolverConvergenceTest {
  private static final double A = 0.5;

  /** dx/ds = x s / (a^2 + s^2): the EDM ODE of Gaussian data with standard deviation a; x = x0 sqrt((a^2+s^2)/(a^2+s0^2)). */
  private static final Dynamics GAUSSIAN = (x, s, out, dxds) -> {
    for (int i = 0; i < x.length; i++) {
      dxds[i] = x[i] * s / (A * A + s * s);
    }
  };

  private static double gaussianExact(double x0, double s0, double s) {
    return x0 * Math.sqrt((A * A + s * s) / (A * A + s0 * s0));
  }

  /** dx/ds = cos(s) x, x = x0 exp(sin s - sin s0): oscillating, so RK45 must work for its step sizes. */
  private static final Dynamics OSCILLATING = (x, s, out, dxds) -> {
    for (int i = 0; i < x.length; i++) {
      dxds[i] = Math.cos(s) * x[i];
    }
  };

  private static double[] drive(Integrator integrator) {
    double[] dummy = new double[0];
    int guard = 0;
    while (!integrator.done()) {
      integrator.point();
      assertTrue(integrator.cond() >= 0);
      integrator.accept(dummy);
      assertTrue(++guard < 10_000_000, "integration did not finish");
    }
    return integrator.state();
  }

  private static double gridError(IntFunction<double[]> grid, int steps, boolean heun) {
    double[] nodes = grid.apply(steps);
    double[] x = drive(new GridIntegrator(nodes, heun, GAUSSIAN, new double[] {1.0}));
    return Math.abs(x[0] - gaussianExact(1.0, nodes[0], nodes[nodes.length - 1]));
  }

  private static double observedOrder(IntFunction<double[]> grid, boolean heun) {
    double e1 = gridError(grid, 64, heun);
    double e2 = gridError(grid, 128, heun);
    return Math.log(e1 / e2) / Math.log(2);
  }

  private static double[] uniform(int steps) {
    double[] s = new double[steps + 1];
    for (int k = 0; k <= steps; k++) {
      s[k] = 2.0 - 1.9 * k / steps;
    }
    return s;
  }

  @Test
  void shouldShowFirstOrderForEulerOnUniformAndPfgmAndEdmGrids() {
    PfgmPhysics pfgm = new PfgmPhysics(1, 40, 1e-3, 3000, 5, 0);
    PfgmppPhysics edm = PfgmppPhysics.edmDefaults(1, 128);
    assertEquals(1.0, observedOrder(SolverConvergenceTest::uniform, false), 0.1);
    assertEquals(1.0, observedOrder(n -> Integrators.pfgmGrid(pfgm, n), false), 0.1);
    assertEquals(1.0, observedOrder(n -> Integrators.edmGrid(edm, n), false), 0.1);
  }

  @Test
  void shouldShowSecondOrderForHeunOnUniformAndPfgmAndEdmGrids() {
    PfgmPhysics pfgm = new PfgmPhysics(1, 40, 1e-3, 3000, 5, 0);
    PfgmppPhysics edm = PfgmppPhysics.edmDefaults(1, 128);
    assertEquals(2.0, observedOrder(SolverConvergenceTest::uniform, true), 0.15);
    assertEquals(2.0, observedOrder(n -> Integrators.pfgmGrid(pfgm, n), true), 0.15);
    assertEquals(2.0, observedOrder(n -> Integrators.edmGrid(edm, n), true), 0.15);
  }

  @Test
  void shouldCountEvaluationsOfFixedGridSolvers() {
    Integrator euler = new GridIntegrator(uniform(18), false, GAUSSIAN, new double[] {1});
    drive(euler);
    assertEquals(18, euler.nfe());
    Integrator heun = new GridIntegrator(uniform(18), true, GAUSSIAN, new double[] {1});
    drive(heun);
    assertEquals(35, heun.nfe());
  }

  @Test
  void shouldMeetTheToleranceWithRk45() {
    double previous = Double.POSITIVE_INFINITY;
    for (double tol : new double[] {1e-4, 1e-6, 1e-8, 1e-10}) {
      double[] x0 = {1.0, -2.0, 0.25};
      DormandPrinceIntegrator rk = new DormandPrinceIntegrator(OSCILLATING, x0, 1, 20, tol, tol, false);
      double[] x = drive(rk);
      double error = 0;
      for (int i = 0; i < x0.length; i++) {
        double exact = x0[i] * Math.exp(Math.sin(20) - Math.sin(1));
        error = Math.max(error, Math.abs(x[i] - exact) / (tol + tol * Math.abs(exact)));
      }
      // Local error control keeps the global error within a small multiple of the tolerance.
      assertTrue(error < 20, "tol " + tol + ": error " + error + " tolerances");
      assertEquals(2 + 6 * (rk.acceptedSteps() + rk.rejectedSteps()), rk.nfe());
      assertTrue(rk.acceptedSteps() > 5);
      double absolute = Math.abs(x[0] - x0[0] * Math.exp(Math.sin(20) - Math.sin(1)));
      assertTrue(absolute < previous, "error must shrink with the tolerance");
      previous = absolute;
    }
  }

  @Test
  void shouldIntegrateBackwardOverDecadesWithRk45() {
    double[] x0 = {3.0, -1.0};
    DormandPrinceIntegrator rk = new DormandPrinceIntegrator(GAUSSIAN, x0, 80, 0.002, 1e-8, 1e-8, false);
    double[] x = drive(rk);
    for (int i = 0; i < x0.length; i++) {
      double exact = gaussianExact(x0[i], 80, 0.002);
      assertEquals(exact, x[i], 1e-6 * Math.abs(exact) + 1e-7);
    }
  }
}

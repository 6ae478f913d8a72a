package io.fieldline.core.internal;

import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;

/** Builds the integrator of a sample from the model's physics and the sampler settings. */
public final class Integrators {
  private Integrators() {}

  /** The backward (prior to data) integrator starting at x0, which must be a prior draw. */
  public static Integrator backward(Physics physics, SamplerSettings settings, double[] x0) {
    Dynamics dynamics = dynamics(physics);
    if (physics instanceof PfgmPhysics p) {
      switch (settings.solver()) {
        case RK45:
          return new DormandPrinceIntegrator(dynamics, x0, p.zMax(), p.zMin(), settings.rtol(), settings.atol(),
              false);
        default:
          return new GridIntegrator(pfgmGrid(p, settings.steps()), settings.solver() == Solver.HEUN,
              dynamics, x0);
      }
    }
    PfgmppPhysics pp = (PfgmppPhysics) physics;
    switch (settings.solver()) {
      case RK45:
        return new DormandPrinceIntegrator(dynamics, x0, pp.sigmaMax(), pp.sigmaMin(), settings.rtol(),
            settings.atol(), true);
      default:
        return new GridIntegrator(edmGrid(pp, settings.steps()), settings.solver() == Solver.HEUN,
            dynamics, x0);
    }
  }

  /** The ODE right-hand side of a model family. */
  public static Dynamics dynamics(Physics physics) {
    return physics instanceof PfgmPhysics p ? new PfgmDynamics(p) : new PfgmppDynamics();
  }

  /** PFGM's grid: n + 1 nodes z_k = exp(linspace(ln z_max, ln z_min, n + 1)). */
  public static double[] pfgmGrid(PfgmPhysics physics, int steps) {
    double a = Math.log(physics.zMax());
    double b = Math.log(physics.zMin());
    double[] z = new double[steps + 1];
    for (int k = 0; k <= steps; k++) {
      z[k] = Math.exp(a + (b - a) * k / steps);
    }
    z[0] = physics.zMax();
    z[steps] = physics.zMin();
    return z;
  }

  /**
   * EDM's schedule: n nodes sigma_i = (sigma_max^(1/rho) + i/(n-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,
   * then sigma_n = 0 (n + 1 nodes in all). With n = 1 the only positive node is sigma_max.
   */
  public static double[] edmGrid(PfgmppPhysics physics, int steps) {
    double inv = 1 / physics.rho();
    double a = Math.pow(physics.sigmaMax(), inv);
    double b = Math.pow(physics.sigmaMin(), inv);
    double[] sigma = new double[steps + 1];
    for (int i = 0; i < steps; i++) {
      double frac = steps == 1 ? 0 : (double) i / (steps - 1);
      sigma[i] = Math.pow(a + frac * (b - a), physics.rho());
    }
    sigma[steps] = 0;
    return sigma;
  }
}

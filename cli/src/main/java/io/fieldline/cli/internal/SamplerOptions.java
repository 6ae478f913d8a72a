package io.fieldline.cli.internal;

import picocli.CommandLine.Option;

/**
 * Which ODE solver and grid draw the images. One definition for every command that names a sampler (generate, submit,
 * interpolate, eval, demo); the RK45 tolerance stays with each command, where it means different things (a request's
 * sampler, an encoding's accuracy).
 */
public final class SamplerOptions {
  @Option(names = "--solver", paramLabel = "NAME", description = "euler, heun, rk45 or edm. PFGM: Euler / improved "
      + "Euler on a ln z grid, or adaptive RK45 in ln z. PFGM++: edm (= heun) is EDM's Heun sampler on the sigma "
      + "schedule. Default: the model's preset (model.json, measured by eval --sweep), else rk45 for PFGM, edm for "
      + "PFGM++.")
  public String solver;

  @Option(names = "--steps", paramLabel = "N", description = "Grid steps of euler/heun/edm, 1..10000 (NFE = N for "
      + "euler, 2N-1 for heun/edm). Default: the preset's for its solver, else 100 for PFGM, 18 for PFGM++.")
  public Integer steps;

  /**
   * The settings these flags give for a model: its default sampler with --solver/--steps and the RK45 tolerances
   * applied (null: the model's).
   *
   * @throws IllegalArgumentException naming a bad solver or an out-of-range value
   */
  public io.fieldline.core.SamplerSettings resolve(io.fieldline.core.FieldModel model, Double rtol, Double atol) {
    return io.fieldline.core.SamplerSettings.resolve(model.defaultSampler(), model.physics(), solver, steps, rtol,
        atol);
  }
}

package io.fieldline.core;

/**
 * How to integrate one sample: the solver and its settings. Part of an image's identity: the same (model, seed,
 * index, settings) always gives the same image.
 *
 * @param solver the ODE solver
 * @param steps grid steps for EULER and HEUN (1 .. 10,000); RK45 ignores it (stored as 1)
 * @param rtol relative tolerance of RK45 (1e-12 .. 1); the fixed-grid solvers ignore it (stored as 1e-4)
 * @param atol absolute tolerance of RK45 (1e-12 .. 1); likewise
 * @param guidance classifier-free guidance weight w for samples that ask for a class on a conditional model: the
 *     field is uncond + w (cond - uncond). 1 (the default) is the plain conditional field and 0 the unconditional
 *     one, one evaluation per point each; any other w costs two evaluations per point (both count in NFE). Samples
 *     without a class ignore it. In [0, {@value #MAX_GUIDANCE}].
 */
public record SamplerSettings(Solver solver, int steps, double rtol, double atol, double guidance) {
  /** Largest accepted step count. */
  public static final int MAX_STEPS = 10_000;
  /** Largest accepted guidance weight (beyond ~5 images saturate; far beyond, integration diverges). */
  public static final double MAX_GUIDANCE = 20;

  /** Settings without guidance (w = 1). */
  public SamplerSettings(Solver solver, int steps, double rtol, double atol) {
    this(solver, steps, rtol, atol, 1.0);
  }

  public SamplerSettings {
    if (!(guidance >= 0 && guidance <= MAX_GUIDANCE)) {
      throw new IllegalArgumentException("guidance must be in [0, " + (int) MAX_GUIDANCE + "], got " + guidance);
    }
    if (solver == null) {
      throw new IllegalArgumentException("solver must be given");
    }
    if (steps < 1 || steps > MAX_STEPS) {
      throw new IllegalArgumentException("steps must be in 1.." + MAX_STEPS + ", got " + steps);
    }
    checkTolerance("rtol", rtol);
    checkTolerance("atol", atol);
    // Canonical form: settings a solver ignores take fixed values, so equal intent gives equal settings (and equal
    // image metadata) whichever defaults the caller filled in.
    if (solver == Solver.RK45) {
      steps = 1;
    } else {
      rtol = 1e-4;
      atol = 1e-4;
    }
  }

  private static void checkTolerance(String name, double value) {
    if (!(value >= 1e-12 && value <= 1)) {
      throw new IllegalArgumentException(name + " must be in [1e-12, 1], got " + value);
    }
  }

  /** RK45 with the official tolerances rtol = atol = 1e-4. */
  public static SamplerSettings rk45() {
    return new SamplerSettings(Solver.RK45, 1, 1e-4, 1e-4);
  }

  /** RK45 with the given tolerance for both rtol and atol. */
  public static SamplerSettings rk45(double tolerance) {
    return new SamplerSettings(Solver.RK45, 1, tolerance, tolerance);
  }

  /** A fixed-grid solver with the given number of steps. */
  public static SamplerSettings fixed(Solver solver, int steps) {
    return new SamplerSettings(solver, steps, 1e-4, 1e-4);
  }

  /**
   * Settings from what a user gave, the rest filled in by the model family: solver rk45 (PFGM) or edm (PFGM++);
   * steps 100 (PFGM) or 18 (PFGM++); rtol 1e-4; atol = rtol. Same as {@link #resolve(SamplerSettings, Physics,
   * String, Integer, Double, Double)} with the family default {@link #defaultFor} as the base.
   *
   * @throws IllegalArgumentException for an unknown solver, edm on a PFGM model, or values out of range
   */
  public static SamplerSettings resolve(Physics physics, String solver, Integer steps, Double rtol, Double atol) {
    return resolve(defaultFor(physics), physics, solver, steps, rtol, atol);
  }

  /**
   * Settings from what a user gave, the rest filled in from a model's default sampler {@code base} (see
   * {@link FieldModel#defaultSampler()}): no solver means the base's solver; no steps means the base's steps when the
   * solver is the base's, else the family's (100 for PFGM, 18 for PFGM++); no rtol means the base's when both are
   * RK45, else 1e-4; no atol means rtol; the guidance is the base's ({@link #withGuidance} sets another). The one place these defaults live, shared by the command line and the
   * pipeline so the same request gives the same image either way.
   *
   * @param base the model's default sampler
   * @param physics the model's physics (edm is refused for PFGM)
   * @param solver a solver name or null
   * @param steps grid steps or null
   * @param rtol RK45 relative tolerance or null
   * @param atol RK45 absolute tolerance or null
   * @throws IllegalArgumentException for an unknown solver, edm on a PFGM model, or values out of range
   */
  public static SamplerSettings resolve(SamplerSettings base, Physics physics, String solver, Integer steps,
      Double rtol, Double atol) {
    boolean pfgm = physics instanceof PfgmPhysics;
    Solver parsed = solver != null ? Solver.parse(solver) : base.solver();
    if (pfgm && solver != null && solver.trim().equalsIgnoreCase("edm")) {
      throw new IllegalArgumentException("edm is PFGM++'s sampler and this is a PFGM model (use heun for improved "
          + "Euler)");
    }
    boolean sameSolver = parsed == base.solver();
    int s = steps != null ? steps : sameSolver && parsed != Solver.RK45 ? base.steps() : pfgm ? 100 : 18;
    double r = rtol != null ? rtol : sameSolver && parsed == Solver.RK45 ? base.rtol() : 1e-4;
    double a = atol != null ? atol : rtol == null && sameSolver && parsed == Solver.RK45 ? base.atol() : r;
    return new SamplerSettings(parsed, s, r, a, base.guidance());
  }

  /** The official default for a model family: RK45 for PFGM, EDM's 18-step Heun for PFGM++. */
  public static SamplerSettings defaultFor(Physics physics) {
    return physics instanceof PfgmPhysics ? rk45() : fixed(Solver.HEUN, 18);
  }

  /** These settings with guidance weight {@code w}. */
  public SamplerSettings withGuidance(double w) {
    return new SamplerSettings(solver, steps, rtol, atol, w);
  }

  /**
   * Network evaluations per ODE point of a sample: 2 for a sample with a class under a guidance other than 0 or 1
   * (the conditional and the unconditional field), else 1.
   */
  public int evaluationsPerPoint(boolean labelled) {
    return labelled && guidance != 0 && guidance != 1 ? 2 : 1;
  }

  /**
   * Classifier-free guidance in place: {@code conditional} becomes uncond + w (cond - uncond). The same linear mix
   * serves PFGM's (v_x, v_z) and PFGM++'s denoiser output, as both are affine in the field; the one place it is
   * computed, so the engine and a sample integrated alone agree bitwise.
   */
  public void guide(double[] conditional, double[] unconditional) {
    for (int k = 0; k < conditional.length; k++) {
      conditional[k] = unconditional[k] + guidance * (conditional[k] - unconditional[k]);
    }
  }

  /** The number of ODE points of a fixed-grid solver, or -1 for RK45 (adaptive); see {@link #evaluationsPerPoint}. */
  public int plannedNfe() {
    switch (solver) {
      case EULER:
        return steps;
      case HEUN:
        return 2 * steps - 1;
      default:
        return -1;
    }
  }

  private static String compact(double v) {
    return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toString().replace("E", "e");
  }

  /** e.g. {@code rk45(rtol=1e-4, atol=1e-4)}, {@code heun(steps=18)} or {@code heun(steps=10, guidance=2)}. */
  public String describe() {
    String w = guidance == 1 ? "" : ", guidance=" + compact(guidance);
    return solver == Solver.RK45
        ? "rk45(rtol=" + compact(rtol) + ", atol=" + compact(atol) + w + ")"
        : solver.id() + "(steps=" + steps + w + ")";
  }
}

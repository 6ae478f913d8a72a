package io.fieldline.core.internal;

/**
 * One sample's ODE integration as a state machine driven from outside: the driver asks where the next field
 * evaluation is needed ({@link #point()}, {@link #cond()}), evaluates the model there (alone or batched with any
 * other samples), and hands the output back with {@link #accept(double[])}. The integrator never sees batch-mates,
 * so its result depends only on its own inputs.
 */
public interface Integrator {
  /** True once the final state is reached; no further evaluation is needed. */
  boolean done();

  /** Where the next evaluation is needed (do not modify; valid until the next {@link #accept}). */
  double[] point();

  /** The model conditioning of the next evaluation: z (PFGM) or sigma (PFGM++). */
  double cond();

  /**
   * Consumes the model output at ({@link #point()}, {@link #cond()}) and advances.
   *
   * @throws IllegalStateException if the integration cannot continue (step size underflow)
   */
  void accept(double[] out);

  /** The current state x; the sample once {@link #done()}. */
  double[] state();

  /** Field evaluations consumed so far. */
  int nfe();

  /** Where the integration stands, in [0, 1], for progress reporting. */
  double progress();
}

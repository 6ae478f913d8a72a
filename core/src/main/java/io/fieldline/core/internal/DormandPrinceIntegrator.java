package io.fieldline.core.internal;

/**
 * Adaptive Dormand-Prince 5(4) (the RK45 of scipy's {@code solve_ivp}) in the log variable tau = ln s, where s is
 * the model variable (z for PFGM, sigma for PFGM++): dx/dtau = s dx/ds.
 *
 * <p>Error control is per sample: the error norm is the RMS over this sample's components of
 * err / (atol + max(|x|, |x_new|) rtol), and the step size follows scipy's controller (safety 0.9, factor limits
 * 0.2 and 10, no growth right after a rejection, the two-evaluation initial step selection). The official PFGM code
 * instead flattens the whole batch into one state vector, so there one sample's step size depends on its
 * batch-mates; here it cannot. The official error norm also includes an appended z channel; this one covers x only.
 *
 * <p>NFE: one evaluation at the start, one initial-step probe, then six per attempted step (the seventh stage is
 * reused by the next step, FSAL), plus one if the dynamics denoise at the end.
 */
public final class DormandPrinceIntegrator implements Integrator {
  private static final double[] C = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
  private static final double[][] A = {
      {},
      {1.0 / 5},
      {3.0 / 40, 9.0 / 40},
      {44.0 / 45, -56.0 / 15, 32.0 / 9},
      {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
      {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
      {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
  /** Fifth-order minus embedded fourth-order weights. */
  private static final double[] E = {
      71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40};
  private static final double SAFETY = 0.9;
  private static final double MIN_FACTOR = 0.2;
  private static final double MAX_FACTOR = 10;
  private static final double ERROR_EXPONENT = -1.0 / 5;

  private enum Phase { START, PROBE, STAGE, DENOISE, DONE }

  private final Dynamics dynamics;
  private final boolean denoiseAtEnd;
  private final double rtol;
  private final double atol;
  private final double t0;
  private final double tEnd;
  private final double direction;
  private final double[] x;
  private final double[][] k;
  private final double[] stagePoint;
  private final double[] scratch;
  private final int controlled;
  private Phase phase = Phase.START;
  private int stage;
  private double t;
  private double hAbs;
  private double h;
  private double tNew;
  private boolean stepRejected;
  private int nfe;
  private int acceptedSteps;
  private int rejectedSteps;

  /**
   * Integrates from s = {@code sStart} to s = {@code sEnd} (either direction; both positive).
   *
   * @param dynamics the right-hand side in s
   * @param x0 the state at sStart (copied)
   * @param sStart where to start, positive
   * @param sEnd where to stop, positive, different from sStart
   * @param rtol relative tolerance
   * @param atol absolute tolerance
   * @param denoiseAtEnd whether to finish with one more evaluation whose output replaces x (PFGM++ backward: the
   *     denoised image D(x, sigma_min), the sigma to 0 limit of EDM's last Euler step)
   */
  public DormandPrinceIntegrator(Dynamics dynamics, double[] x0, double sStart, double sEnd, double rtol,
      double atol, boolean denoiseAtEnd) {
    this(dynamics, x0, sStart, sEnd, rtol, atol, denoiseAtEnd, x0.length);
  }

  /**
   * As {@link #DormandPrinceIntegrator(Dynamics, double[], double, double, double, double, boolean)}, with the step
   * control watching only the first {@code controlled} components of the state: the others (accumulated integrals,
   * such as a log-density change whose estimator is noisy) are integrated with the same steps but never shrink them.
   *
   * @throws IllegalArgumentException if controlled is not in 1..x0.length
   */
  public DormandPrinceIntegrator(Dynamics dynamics, double[] x0, double sStart, double sEnd, double rtol,
      double atol, boolean denoiseAtEnd, int controlled) {
    if (controlled < 1 || controlled > x0.length) {
      throw new IllegalArgumentException("controlled components must be in 1.." + x0.length + ", got " + controlled);
    }
    this.controlled = controlled;
    if (!(sStart > 0) || !(sEnd > 0) || sStart == sEnd) {
      throw new IllegalArgumentException("RK45 needs distinct positive end points, got " + sStart + " and " + sEnd);
    }
    this.dynamics = dynamics;
    this.denoiseAtEnd = denoiseAtEnd;
    this.rtol = rtol;
    this.atol = atol;
    this.t0 = Math.log(sStart);
    this.tEnd = Math.log(sEnd);
    this.direction = Math.signum(tEnd - t0);
    this.t = t0;
    int n = x0.length;
    this.x = x0.clone();
    this.k = new double[7][n];
    this.stagePoint = new double[n];
    this.scratch = new double[n];
  }

  @Override
  public boolean done() {
    return phase == Phase.DONE;
  }

  @Override
  public double[] point() {
    return phase == Phase.STAGE || phase == Phase.PROBE ? stagePoint : x;
  }

  @Override
  public double cond() {
    switch (phase) {
      case START:
      case DENOISE:
        return Math.exp(t);
      case PROBE:
        return Math.exp(t + h);
      case STAGE:
        return Math.exp(t + C[stage] * h);
      default:
        throw new IllegalStateException("integration is done");
    }
  }

  @Override
  public void accept(double[] out) {
    nfe++;
    switch (phase) {
      case START:
        slope(x, Math.exp(t), out, k[0]);
        beginProbe();
        break;
      case PROBE:
        slope(stagePoint, Math.exp(t + h), out, k[1]);
        hAbs = initialStep(k[0], k[1], Math.abs(h));
        stepRejected = false;
        beginAttempt();
        break;
      case STAGE:
        slope(stagePoint, Math.exp(t + C[stage] * h), out, k[stage]);
        if (stage < 6) {
          stage++;
          fillStagePoint();
        } else {
          finishAttempt();
        }
        break;
      case DENOISE:
        System.arraycopy(out, 0, x, 0, x.length);
        phase = Phase.DONE;
        break;
      default:
        throw new IllegalStateException("integration is done");
    }
  }

  private void slope(double[] point, double s, double[] out, double[] target) {
    dynamics.derivative(point, s, out, target);
    for (int i = 0; i < target.length; i++) {
      target[i] *= s; // dx/dtau = s dx/ds
    }
  }

  /** scipy's select_initial_step, first half: the trial step h0 and the probe point. */
  private void beginProbe() {
    double d0 = rms(x);
    double d1 = rms(k[0]);
    double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    h0 = Math.min(h0, Math.abs(tEnd - t0));
    h = h0 * direction;
    for (int i = 0; i < x.length; i++) {
      stagePoint[i] = x[i] + h * k[0][i];
    }
    phase = Phase.PROBE;
  }

  /** scipy's select_initial_step, second half. */
  private double initialStep(double[] f0, double[] f1, double h0) {
    double d1 = rms(f0);
    for (int i = 0; i < scratch.length; i++) {
      scratch[i] = f1[i] - f0[i];
    }
    double d2 = rms(scratch) / h0;
    double h1 = (d1 <= 1e-15 && d2 <= 1e-15)
        ? Math.max(1e-6, h0 * 1e-3)
        : Math.pow(0.01 / Math.max(d1, d2), 1.0 / 5);
    return Math.min(Math.min(100 * h0, h1), Math.abs(tEnd - t0));
  }

  /** RMS of v / (atol + |x| rtol), scipy's scaled norm at the start point. */
  private double rms(double[] v) {
    double sum = 0;
    for (int i = 0; i < controlled; i++) {
      double scaled = v[i] / (atol + Math.abs(x[i]) * rtol);
      sum += scaled * scaled;
    }
    return Math.sqrt(sum / controlled);
  }

  private void beginAttempt() {
    double minStep = 10 * Math.ulp(t);
    if (hAbs < minStep) {
      if (stepRejected) {
        throw new IllegalStateException("RK45 step size underflow at ln s = " + t + " (the field is not smooth "
            + "enough here for rtol=" + rtol + ", atol=" + atol + ")");
      }
      hAbs = minStep;
    }
    tNew = t + hAbs * direction;
    if (direction * (tNew - tEnd) > 0) {
      tNew = tEnd; // exactly: the last step ends on the end point, not an ulp away
    }
    h = tNew - t;
    hAbs = Math.abs(h);
    stage = 1;
    fillStagePoint();
    phase = Phase.STAGE;
  }

  private void fillStagePoint() {
    // x + h sum_j a_j k_j, as one axpy per stage: contiguous loops the JIT vectorizes.
    double[] a = A[stage];
    int n = x.length;
    System.arraycopy(x, 0, stagePoint, 0, n);
    for (int j = 0; j < a.length; j++) {
      axpy(h * a[j], k[j], stagePoint);
    }
  }

  /** y += c v, skipped for c = 0 (the tableau's zeros). */
  private static void axpy(double c, double[] v, double[] y) {
    if (c == 0) {
      return;
    }
    for (int i = 0; i < y.length; i++) {
      y[i] += c * v[i];
    }
  }

  private void finishAttempt() {
    // stagePoint holds x_new (the 7th stage is evaluated at the fifth-order solution).
    int n = x.length;
    java.util.Arrays.fill(scratch, 0.0);
    for (int j = 0; j < 7; j++) {
      axpy(h * E[j], k[j], scratch);
    }
    double sum = 0;
    for (int i = 0; i < controlled; i++) {
      double scale = atol + Math.max(Math.abs(x[i]), Math.abs(stagePoint[i])) * rtol;
      double scaled = scratch[i] / scale;
      sum += scaled * scaled;
    }
    double errorNorm = Math.sqrt(sum / controlled);
    if (Double.isNaN(errorNorm) || (controlled < n && !finite(stagePoint))) {
      throw new IllegalStateException("RK45 produced a non-finite state at ln s = " + t);
    }
    if (errorNorm < 1) {
      double factor = errorNorm == 0 ? MAX_FACTOR : Math.min(MAX_FACTOR, SAFETY * Math.pow(errorNorm, ERROR_EXPONENT));
      if (stepRejected) {
        factor = Math.min(1, factor);
      }
      hAbs *= factor;
      System.arraycopy(stagePoint, 0, x, 0, x.length);
      t = tNew;
      double[] first = k[0];
      k[0] = k[6];
      k[6] = first;
      acceptedSteps++;
      stepRejected = false;
      if (t == tEnd) {
        phase = denoiseAtEnd ? Phase.DENOISE : Phase.DONE;
      } else {
        beginAttempt();
      }
    } else {
      hAbs *= Math.max(MIN_FACTOR, SAFETY * Math.pow(errorNorm, ERROR_EXPONENT));
      stepRejected = true;
      rejectedSteps++;
      beginAttempt();
    }
  }

  private static boolean finite(double[] v) {
    for (double d : v) {
      if (!Double.isFinite(d)) {
        return false;
      }
    }
    return true;
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
    return phase == Phase.DONE ? 1 : (t - t0) / (tEnd - t0);
  }

  /** Accepted steps so far. */
  public int acceptedSteps() {
    return acceptedSteps;
  }

  /** Rejected step attempts so far. */
  public int rejectedSteps() {
    return rejectedSteps;
  }
}

package io.fieldline.core;

import io.fieldline.core.internal.DivergenceDynamics;
import io.fieldline.core.internal.DormandPrinceIntegrator;
import io.fieldline.core.internal.Integrators;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Log-likelihoods of images under a field model, by the flow's change of variables (docs/LIKELIHOOD.md): the forward
 * ODE carries x from the data end (z_min, sigma_min) to the prior's start (z_max, sigma_max) and, alongside,
 * integrates the divergence of its velocity, so
 * {@code ln p(x) = ln p_prior(x_T) + integral of div_x (dx/ds) ds}.
 *
 * <p><b>Divergence.</b> A bundle is an ONNX graph and ONNX Runtime has no automatic differentiation, so the
 * Jacobian-vector products are central differences of the velocity, evaluated in the same batched calls as the
 * trajectory: {@code v^T J v ~ v . (f(c + h v) - f(c - h v)) / 2h}. With {@code probes = 0} the divergence is the exact
 * trace (the N basis vectors, 2N extra rows per evaluation; offered up to {@value #MAX_EXACT_DIMENSION} dimensions);
 * otherwise it is the Hutchinson-Skilling estimate with K seeded Rademacher probes, each integrated as its own state
 * component so every image gets K independent estimates and a standard error. The step h is a power of two near 1% of
 * the noise level s (the field varies on the scale s, so the truncation error is about (h/s)^2 / 6 ~ 2e-5 of the
 * product), and the centre c is x rounded to a grid of h/16 whose points, and c +- h, are exact in float32: the
 * perturbation a float32 network sees is exactly 2h v, never a rounded one. Rounding of the network's float32
 * outputs adds noise of about 1e-7 / 2h per output component, which the velocity divides by s once more (PFGM++),
 * so it is largest at s_min and averages out along the path; the tests bound the result.
 *
 * <p><b>Steps.</b> Dormand-Prince in ln s (as {@link Flows#encode}), its step control watching the trajectory only:
 * the divergence estimates are noisy at the rounding level and would make the controller crawl without making x more
 * accurate.
 *
 * <p><b>Determinism.</b> An image's result depends on (model, image, label, seed, index, settings) only: probes come from
 * the image's own random stream and rows are independent of their batch-mates.
 *
 * <p>Not thread-safe; one evaluation at a time per instance (models are single-threaded).
 */
public final class Likelihood {
  /** The largest dimension for which the exact divergence ({@code probes = 0}) is offered. */
  public static final int MAX_EXACT_DIMENSION = 64;
  /** Random-stream purpose of the probes (prior draws use 0 and 1). */
  static final int PURPOSE_PROBES = 5;
  /** Random-stream purpose of the dequantization noise. */
  static final int PURPOSE_DEQUANTIZE = 6;
  /** Pixel levels per unit of the model's [-1, 1] scale: x = pixel / 127.5 - 1. */
  public static final double LEVELS_PER_UNIT = 127.5;

  /**
   * One image's result.
   *
   * @param logDensity ln p(x) in nats (per unit volume in the model's units), the mean over probes
   * @param priorLogDensity ln p_prior(x_T) at the latent
   * @param divergenceIntegral the integral of the divergence along the path (mean over probes)
   * @param standardError the standard error of {@code logDensity} from the probes: 0 for the exact trace, NaN for
   *     one probe
   * @param latent x_T, where the forward ODE took x
   * @param nfe evaluations of the trajectory (each costs 1 + 2 x probes network rows; see {@code rows})
   * @param rows network rows evaluated for this image
   * @param finished false if the image was stopped at {@code maxNfe} or its integration broke down (a non-finite
   *     state, a step-size underflow); then the other fields are not meaningful
   */
  public record Result(double logDensity, double priorLogDensity, double divergenceIntegral, double standardError,
      double[] latent, int nfe, long rows, boolean finished) {}

  private final FieldModel model;
  private final int probes;
  private final double rtol;
  private final double atol;
  private final int maxBatch;
  private final int maxNfe;
  private final double from;

  private Likelihood(Builder b) {
    this.model = b.model;
    this.probes = b.probes;
    this.rtol = b.rtol;
    this.atol = b.atol;
    this.maxBatch = b.maxBatch;
    this.maxNfe = b.maxNfe;
    Physics p = model.physics();
    this.from = b.from != null ? b.from
        : p instanceof PfgmPhysics pf ? pf.zMin() : ((PfgmppPhysics) p).sigmaMin();
    double to = Priors.start(p);
    if (!(from > 0 && from < to)) {
      throw new IllegalArgumentException("the integration must start in (0, " + to + "), got " + from);
    }
    if (probes == 0 && p.dimension() > MAX_EXACT_DIMENSION) {
      throw new IllegalArgumentException("the exact divergence costs 2N extra rows per evaluation; it is offered up to N = "
          + MAX_EXACT_DIMENSION + ", and " + model.name() + " has N = " + p.dimension() + " (use probes >= 1)");
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The likelihood of each image, their integrations batched together (up to {@code maxBatch} network rows a call).
   *
   * @param images images in the model's units, each of length N
   * @param labels a class per image ({@link FieldModel#NO_LABEL} for the unconditional field), or null for none
   * @param seed seeds the probes; image i uses the stream (seed, i)
   * @param progress told the number of images finished so far
   * @throws IllegalArgumentException for images of the wrong length or non-finite values, or labels the model lacks
   */
  public List<Result> evaluate(double[][] images, int[] labels, long seed, IntConsumer progress) {
    int n = model.physics().dimension();
    if (labels != null && labels.length != images.length) {
      throw new IllegalArgumentException(images.length + " images but " + labels.length + " labels");
    }
    List<Run> open = new ArrayList<>();
    List<Run> all = new ArrayList<>();
    for (int i = 0; i < images.length; i++) {
      if (images[i].length != n) {
        throw new IllegalArgumentException("image " + i + " has " + images[i].length + " values, the model takes " + n);
      }
      for (double v : images[i]) {
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException("image " + i + " has a non-finite value");
        }
      }
      int label = labels == null ? FieldModel.NO_LABEL : labels[i];
      String problem = FieldModel.labelProblem(model, label);
      if (problem != null) {
        throw new IllegalArgumentException(problem);
      }
      Run run = new Run(images[i], label, probeVectors(n, seed, i));
      open.add(run);
      all.add(run);
    }
    int rowsPer = 1 + 2 * (probes == 0 ? n : probes);
    int outDim = model.physics().outputDimension();
    int capacity = Math.max(maxBatch, rowsPer);
    double[][] in = new double[capacity][];
    double[] cond = new double[capacity];
    int[] rowLabels = new int[capacity];
    double[][] out = new double[capacity][outDim];
    int finished = 0;
    while (!open.isEmpty()) {
      int group = Math.max(1, Math.min(open.size(), maxBatch / rowsPer));
      int rows = 0;
      for (int g = 0; g < group; g++) {
        rows = open.get(g).fillRows(in, cond, rowLabels, rows);
      }
      for (int start = 0; start < rows; start += maxBatch) { // chunks: rows never influence their batch-mates
        int count = Math.min(maxBatch, rows - start);
        evaluateChunk(in, cond, rowLabels, out, start, count);
      }
      int at = 0;
      for (int g = 0; g < group; g++) {
        at = open.get(g).accept(out, at);
      }
      int before = open.size();
      open.removeIf(r -> r.broken != null || r.integrator.done() || r.integrator.nfe() >= maxNfe);
      if (open.size() < before) {
        finished += before - open.size();
        progress.accept(finished);
      }
    }
    List<Result> results = new ArrayList<>();
    for (Run r : all) {
      results.add(r.result());
    }
    return results;
  }

  private void evaluateChunk(double[][] in, double[] cond, int[] labels, double[][] out, int start, int count) {
    if (start == 0) {
      model.evaluate(in, cond, labels, out, count);
      return;
    }
    double[][] x = java.util.Arrays.copyOfRange(in, start, start + count);
    double[] c = java.util.Arrays.copyOfRange(cond, start, start + count);
    int[] l = java.util.Arrays.copyOfRange(labels, start, start + count);
    double[][] o = java.util.Arrays.copyOfRange(out, start, start + count);
    model.evaluate(x, c, l, o, count);
  }

  /** The probe vectors of image (seed, index): the basis for the exact trace, else K Rademacher vectors. */
  private double[][] probeVectors(int n, long seed, long index) {
    if (probes == 0) {
      return null; // the basis, implicit
    }
    SampleRandom random = new SampleRandom(seed, index, PURPOSE_PROBES);
    double[][] v = new double[probes][n];
    for (int k = 0; k < probes; k++) {
      for (int i = 0; i < n; i += 32) {
        int bits = random.nextInt();
        for (int j = 0; j < 32 && i + j < n; j++) {
          v[k][i + j] = ((bits >>> j) & 1) == 0 ? 1 : -1;
        }
      }
    }
    return v;
  }

  /** One image's integration: the augmented state (x, then one integral per probe, or one for the exact trace). */
  private final class Run {
    final int label;
    final double[][] v;
    final DivergenceDynamics dynamics;
    final DormandPrinceIntegrator integrator;
    final int estimates;
    long rowCount;
    String broken; // why the integration broke down, if it did: this image ends unfinished, the others go on
    double h;
    double[][] perturbed; // this evaluation's rows c + h v_p, c - h v_p, in pairs

    Run(double[] x, int label, double[][] v) {
      this.label = label;
      this.v = v;
      int n = x.length;
      this.estimates = v == null ? 1 : v.length;
      double[] y0 = java.util.Arrays.copyOf(x, n + estimates);
      this.dynamics = new DivergenceDynamics(Integrators.dynamics(model.physics()), n,
          model.physics().outputDimension(), estimates);
      this.integrator = new DormandPrinceIntegrator(dynamics, y0, from, Priors.start(model.physics()), rtol, atol,
          false, n);
    }

    int perturbations() {
      return v == null ? dynamics.dimension() : v.length;
    }

    /** Writes this image's rows (the trajectory point, then c + h v, c - h v per probe) from row {@code at}. */
    int fillRows(double[][] in, double[] cond, int[] labels, int at) {
      double[] y = integrator.point();
      double s = integrator.cond();
      int n = dynamics.dimension();
      double[] x = java.util.Arrays.copyOf(y, n);
      double[] centre = new double[n];
      h = floatExactCentre(x, s, centre);
      in[at] = x;
      cond[at] = s;
      labels[at] = label;
      at++;
      perturbed = new double[2 * perturbations()][];
      for (int p = 0; p < perturbations(); p++) {
        double[] plus = centre.clone();
        double[] minus = centre.clone();
        if (v == null) {
          plus[p] += h;
          minus[p] -= h;
        } else {
          for (int i = 0; i < n; i++) {
            plus[i] += h * v[p][i];
            minus[i] -= h * v[p][i];
          }
        }
        perturbed[2 * p] = plus;
        perturbed[2 * p + 1] = minus;
      }
      for (double[] row : perturbed) {
        in[at] = row;
        cond[at] = s;
        labels[at] = label;
        at++;
      }
      rowCount += 1 + perturbed.length;
      return at;
    }

    /** Hands the integrator the trajectory row's output and the divergence estimates of the probe rows. */
    int accept(double[][] out, int at) {
      double s = integrator.cond();
      double[] trajectory = out[at++];
      double[] estimatesOut = new double[estimates];
      int n = dynamics.dimension();
      double[] fPlus = new double[n];
      double[] fMinus = new double[n];
      for (int p = 0; p < perturbations(); p++) {
        dynamics.velocity(perturbed[2 * p], s, out[at], fPlus);
        dynamics.velocity(perturbed[2 * p + 1], s, out[at + 1], fMinus);
        at += 2;
        if (v == null) {
          estimatesOut[0] += (fPlus[p] - fMinus[p]) / (2 * h);
        } else {
          double dot = 0;
          for (int i = 0; i < n; i++) {
            dot += v[p][i] * (fPlus[i] - fMinus[i]);
          }
          estimatesOut[p] = dot / (2 * h);
        }
      }
      try {
        integrator.accept(dynamics.augment(trajectory, estimatesOut));
      } catch (IllegalStateException e) {
        broken = e.getMessage();
      }
      return at;
    }

    Result result() {
      int n = dynamics.dimension();
      double[] state = integrator.state();
      double[] latent = java.util.Arrays.copyOf(state, n);
      if (!integrator.done() || broken != null) {
        return new Result(Double.NaN, Double.NaN, Double.NaN, Double.NaN, latent, integrator.nfe(), rowCount, false);
      }
      double mean = 0;
      for (int k = 0; k < estimates; k++) {
        mean += state[n + k];
      }
      mean /= estimates;
      double se;
      if (v == null) {
        se = 0;
      } else if (estimates == 1) {
        se = Double.NaN;
      } else {
        double ss = 0;
        for (int k = 0; k < estimates; k++) {
          ss += (state[n + k] - mean) * (state[n + k] - mean);
        }
        se = Math.sqrt(ss / (estimates - 1) / estimates);
      }
      double prior = Priors.logDensity(model.physics(), latent);
      return new Result(prior + mean, prior, mean, se, latent, integrator.nfe(), rowCount, true);
    }
  }

  /**
   * Rounds x to a grid on which the centre and the centre +- h are exact float32 numbers, and returns h: a power of
   * two near 1% of s, doubled (with the grid) until the largest |x| + h fits 2^24 grid steps.
   */
  static double floatExactCentre(double[] x, double s, double[] centre) {
    double h = Math.scalb(1.0, Math.getExponent(0.01 * s));
    double max = 0;
    for (double v : x) {
      max = Math.max(max, Math.abs(v));
    }
    double q = h / 16;
    while (max + h >= 0x1p24 * q) {
      h *= 2;
      q *= 2;
    }
    for (int i = 0; i < x.length; i++) {
      centre[i] = Math.rint(x[i] / q) * q;
    }
    return h;
  }

  /**
   * Uniform dequantization of an image of 8-bit pixels in the model's units (x = pixel / 127.5 - 1): each value moves
   * uniformly within its pixel's bin, x + (u - 1/2) / 127.5, u from the image's own stream (seed, index). The
   * likelihood of dequantized images bounds the discrete model's (the paper's protocol).
   *
   * @throws IllegalArgumentException if a value is not on the 8-bit grid (within 1e-6 of a level)
   */
  public static double[] dequantize(double[] x, long seed, long index) {
    SampleRandom random = new SampleRandom(seed, index, PURPOSE_DEQUANTIZE);
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double level = (x[i] + 1) * LEVELS_PER_UNIT;
      long k = Math.round(level);
      if (Math.abs(level - k) > 1e-6 || k < 0 || k > 255) {
        throw new IllegalArgumentException("value " + i + " (" + x[i] + ") is not an 8-bit pixel level: dequantize "
            + "only 8-bit images");
      }
      out[i] = (k + random.nextDouble() - 0.5) / LEVELS_PER_UNIT - 1;
    }
    return out;
  }

  /**
   * Bits per dimension of a log-density of N values: -ln p / (N ln 2), plus log2(127.5) for dequantized 8-bit images,
   * which expresses the density per unit pixel level (the convention behind published bits/dim; 127.5 levels per unit
   * of the model's scale).
   */
  public static double bitsPerDim(double logDensity, int n, boolean dequantized) {
    double bits = -logDensity / (n * Math.log(2));
    return dequantized ? bits + Math.log(LEVELS_PER_UNIT) / Math.log(2) : bits;
  }

  /** Builder: {@code setModel} required. */
  public static final class Builder {
    private FieldModel model;
    private int probes = 1;
    private double rtol = 1e-4;
    private double atol = 1e-4;
    private int maxBatch = 64;
    private int maxNfe = 30_000;
    private Double from;

    private Builder() {}

    /** The field model (a network bundle or the exact field). */
    public Builder setModel(FieldModel model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /** Rademacher probes per image, 1..64; 0 = the exact trace (N <= {@value #MAX_EXACT_DIMENSION}). Default 1. */
    public Builder optProbes(int probes) {
      if (probes < 0 || probes > 64) {
        throw new IllegalArgumentException("probes must be in 0..64, got " + probes);
      }
      this.probes = probes;
      return this;
    }

    /** RK45 tolerances of the trajectory, each in [1e-12, 1]. Default 1e-4 and 1e-4. */
    public Builder optTolerance(double rtol, double atol) {
      for (double t : new double[] {rtol, atol}) {
        if (!(t >= 1e-12 && t <= 1)) {
          throw new IllegalArgumentException("tolerances must be in [1e-12, 1], got " + t);
        }
      }
      this.rtol = rtol;
      this.atol = atol;
      return this;
    }

    /** Network rows per call, >= 1 (an image's rows may span calls). Default 64. */
    public Builder optMaxBatch(int maxBatch) {
      if (maxBatch < 1) {
        throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
      }
      this.maxBatch = maxBatch;
      return this;
    }

    /** Trajectory evaluations after which an image is given up (reported unfinished). Default 30,000. */
    public Builder optMaxNfe(int maxNfe) {
      if (maxNfe < 10) {
        throw new IllegalArgumentException("maxNfe must be >= 10, got " + maxNfe);
      }
      this.maxNfe = maxNfe;
      return this;
    }

    /**
     * Where the integration starts: the noise level (sigma, or z for PFGM) whose smoothed data the result is the
     * density of. Default: the physics' data end (sigma_min, z_min).
     */
    public Builder optFrom(double level) {
      this.from = level;
      return this;
    }

    public Likelihood build() {
      if (model == null) {
        throw new IllegalStateException("setModel is required");
      }
      return new Likelihood(this);
    }
  }
}

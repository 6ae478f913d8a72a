package io.fieldline.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * The exact empirical field of a finite data set, in double precision: the test oracle for every solver and for the
 * engine, the training target, and a usable (memorizing) model in its own right.
 *
 * <p>Each data point y_j is a unit charge at (y_j, 0). With d_j^2 = |x - y_j|^2 + r^2 and the field's exponent
 * N + D, the normalized weights are c_j = d_j^-(N+D) / sum_k d_k^-(N+D), computed as
 * log c_j = -(N+D)/2 log1p(|x - y_j|^2 / r^2) followed by log-sum-exp, so nothing underflows even though the exponent
 * is in the thousands (docs/PHYSICS.md section 10.1).
 * <ul>
 *   <li>PFGM (D = 1, r = z): output sqrt(N) E / (|E| + gamma) with E = (sum_j c_j y_j - x, -z), the target the
 *       network learns (docs/PHYSICS.md section 2, without the 1e-7 terms).</li>
 *   <li>PFGM++ (r = sigma sqrt(D)): output the posterior mean sum_j c_j y_j under the p_r kernel, the ideal
 *       denoiser. D = infinity uses the Gaussian kernel, log c_j = -|x - y_j|^2 / (2 sigma^2).</li>
 * </ul>
 *
 * <p>Cost per evaluated row: O(n N) for n data points. Rows are independent and evaluated in parallel on the common
 * fork-join pool (or serially, {@link Builder#optParallel}); the result of a row does not depend on the other rows nor
 * on which thread computed it. Immutable and thread-safe.
 */
public final class ExactField implements FieldModel {
  private final String name;
  private final Physics physics;
  private final ImageShape shape;
  private final double[] data;
  private final int count;
  private final int n;
  private final boolean parallel;
  private final List<String> classes;
  private final ExactField[] perClass; // the field of each class's charges alone

  private ExactField(Builder builder) {
    this.classes = builder.classes;
    this.perClass = new ExactField[classes.size()];
    this.name = builder.name;
    this.physics = builder.physics;
    this.shape = builder.shape;
    this.parallel = builder.parallel;
    this.n = physics.dimension();
    this.count = builder.points.length;
    this.data = new double[count * n];
    for (int j = 0; j < count; j++) {
      double[] y = builder.points[j];
      if (y.length != n) {
        throw new IllegalArgumentException("data point " + j + " has " + y.length + " values, expected " + n);
      }
      for (int i = 0; i < n; i++) {
        if (!Double.isFinite(y[i])) {
          throw new IllegalArgumentException("data point " + j + " has a non-finite value at " + i);
        }
      }
      System.arraycopy(y, 0, data, j * n, n);
    }
    for (int c = 0; c < classes.size(); c++) {
      List<double[]> members = new ArrayList<>();
      for (int j = 0; j < count; j++) {
        if (builder.labels[j] == c) {
          members.add(builder.points[j]);
        }
      }
      if (members.isEmpty()) {
        throw new IllegalArgumentException("class '" + classes.get(c) + "' has no data point (every class needs a "
            + "charge)");
      }
      perClass[c] = builder().setData(members.toArray(new double[0][])).setPhysics(physics).setShape(shape)
          .optName(name + "/" + classes.get(c)).optParallel(parallel).build();
    }
  }

  @Override
  public List<String> classes() {
    return classes;
  }

  /**
   * The field of the charges of class {@code labels[i]} alone ({@link #NO_LABEL}: of all charges): the exact
   * class-conditional Poisson field, whose flow carries the prior onto that class's data points.
   */
  @Override
  public void evaluate(double[][] x, double[] cond, int[] labels, double[][] out, int rows) {
    if (rows <= 0 || rows > x.length) {
      throw new IllegalArgumentException("row count " + rows + " outside 1.." + x.length);
    }
    FieldModel.checkLabels(this, labels, rows);
    IntStream range = IntStream.range(0, rows);
    (parallel && rows > 1 ? range.parallel() : range).forEach(i -> {
      ExactField field = labels[i] == NO_LABEL ? this : perClass[labels[i]];
      field.evaluateRow(x[i], cond[i], out[i], new double[field.count]);
    });
  }

  /** A new builder. Required: {@code setData}, {@code setPhysics}, {@code setShape}. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Physics physics() {
    return physics;
  }

  @Override
  public ImageShape shape() {
    return shape;
  }

  /** The number of charges (data points). */
  public int size() {
    return count;
  }

  /** A copy of data point j. */
  public double[] point(int j) {
    double[] y = new double[n];
    System.arraycopy(data, j * n, y, 0, n);
    return y;
  }

  @Override
  public void evaluate(double[][] x, double[] cond, double[][] out, int rows) {
    if (rows <= 0 || rows > x.length) {
      throw new IllegalArgumentException("row count " + rows + " outside 1.." + x.length);
    }
    if (rows == 1 || !parallel) {
      double[] scratch = new double[count];
      for (int i = 0; i < rows; i++) {
        evaluateRow(x[i], cond[i], out[i], scratch);
      }
      return;
    }
    IntStream.range(0, rows).parallel()
        .forEach(i -> evaluateRow(x[i], cond[i], out[i], new double[count]));
  }

  /**
   * The normalized weights c_j at (x, cond) into {@code weights}; returns nothing else. Exposed for the trainer and
   * for tests.
   */
  public void weights(double[] x, double cond, double[] weights) {
    double[] logW = weights;
    double max = Double.NEGATIVE_INFINITY;
    boolean gaussian = physics instanceof PfgmppPhysics pp && pp.isDiffusionLimit();
    double r2;
    double half;
    if (physics instanceof PfgmPhysics) {
      r2 = cond * cond;
      half = (n + 1) / 2.0;
    } else {
      double d = physics.augmentedDimensions();
      r2 = gaussian ? 2 * cond * cond : cond * cond * d;
      half = gaussian ? 1 : (n + d) / 2.0;
    }
    if (!(r2 > 0) || Double.isInfinite(r2)) {
      throw new IllegalArgumentException("conditioning must be positive and finite, got " + cond);
    }
    for (int j = 0; j < count; j++) {
      int base = j * n;
      double d2 = 0;
      for (int i = 0; i < n; i++) {
        double diff = x[i] - data[base + i];
        d2 += diff * diff;
      }
      double lw = gaussian ? -d2 / r2 : -half * Math.log1p(d2 / r2);
      logW[j] = lw;
      if (lw > max) {
        max = lw;
      }
    }
    if (Double.isNaN(max) || Double.isInfinite(max)) {
      throw new IllegalArgumentException("field evaluated at a non-finite point");
    }
    double sum = 0;
    for (int j = 0; j < count; j++) {
      double w = Math.exp(logW[j] - max);
      weights[j] = w;
      sum += w;
    }
    double inv = 1 / sum;
    for (int j = 0; j < count; j++) {
      weights[j] *= inv;
    }
  }

  private void evaluateRow(double[] x, double cond, double[] out, double[] weights) {
    weights(x, cond, weights);
    // mean = sum_j c_j y_j, accumulated in data order (deterministic).
    java.util.Arrays.fill(out, 0, n, 0.0);
    for (int j = 0; j < count; j++) {
      double c = weights[j];
      if (c == 0) {
        continue;
      }
      int base = j * n;
      for (int i = 0; i < n; i++) {
        out[i] += c * data[base + i];
      }
    }
    if (physics instanceof PfgmPhysics p) {
      double z = cond;
      double sumSq = z * z;
      for (int i = 0; i < n; i++) {
        out[i] -= x[i]; // E_x = mean - x
        sumSq += out[i] * out[i];
      }
      double scale = Math.sqrt(n) / (Math.sqrt(sumSq) + p.gamma());
      for (int i = 0; i < n; i++) {
        out[i] *= scale;
      }
      out[n] = -z * scale;
    }
  }

  /** Builder: {@code setX} required, {@code optX} optional. */
  public static final class Builder {
    private double[][] points;
    private Physics physics;
    private ImageShape shape;
    private String name = "exact";
    private boolean parallel = true;
    private int[] labels;
    private List<String> classes = List.of();

    private Builder() {}

    /**
     * Class labels of the data points (index into {@code classNames}), making the field class-conditional: a row with
     * a label gets the field of that class's points alone. Every class needs at least one point. Default: none.
     */
    public Builder optLabels(int[] pointLabels, List<String> classNames) {
      this.labels = Objects.requireNonNull(pointLabels, "pointLabels").clone();
      this.classes = List.copyOf(classNames);
      return this;
    }

    /**
     * Whether a batch's rows are spread over the common fork-join pool (default true). Serial suits several engines
     * each pinned to one core: a parallel section stalls whenever another thread holds a core.
     */
    public Builder optParallel(boolean parallel) {
      this.parallel = parallel;
      return this;
    }

    /** The data points (each of length N, values in [-1, 1] for images). Required, at least one. */
    public Builder setData(double[][] points) {
      this.points = Objects.requireNonNull(points, "points");
      return this;
    }

    /** The physics the field is computed for. Required. */
    public Builder setPhysics(Physics physics) {
      this.physics = Objects.requireNonNull(physics, "physics");
      return this;
    }

    /** The image shape; its size must equal the physics dimension. Required. */
    public Builder setShape(ImageShape shape) {
      this.shape = Objects.requireNonNull(shape, "shape");
      return this;
    }

    /** A display name; default {@code exact}. */
    public Builder optName(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Builds the field (copies the data). */
    public ExactField build() {
      if (points == null || physics == null || shape == null) {
        throw new IllegalStateException("ExactField needs setData, setPhysics and setShape");
      }
      if (points.length == 0) {
        throw new IllegalArgumentException("an exact field needs at least one data point");
      }
      if (labels != null && labels.length != points.length) {
        throw new IllegalArgumentException(labels.length + " labels for " + points.length + " data points");
      }
      if (labels != null) {
        for (int l : labels) {
          if (l < 0 || l >= classes.size()) {
            throw new IllegalArgumentException("label " + l + " is not a class index (0.." + (classes.size() - 1) + ")");
          }
        }
      }
      if (shape.size() != physics.dimension()) {
        throw new IllegalArgumentException("shape " + shape + " has " + shape.size() + " values but the physics has N="
            + physics.dimension());
      }
      return new ExactField(this);
    }
  }
}

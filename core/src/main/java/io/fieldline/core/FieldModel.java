package io.fieldline.core;

/**
 * A field model: the neural network (or the exact empirical field) that the ODE solvers query.
 *
 * <p>What it computes depends on {@link #physics()}:
 * <ul>
 *   <li>{@link PfgmPhysics} (D = 1): the normalized Poisson field at (x, z), N + 1 numbers: v_x (N values, same
 *       layout as the image) followed by v_z. {@code cond} is z (not ln z).</li>
 *   <li>{@link PfgmppPhysics}: the denoised image D(x, sigma), N numbers. {@code cond} is sigma.</li>
 * </ul>
 *
 * <p>Contract: row i of the output depends only on row i of the input and {@code cond[i]} (up to the model's own
 * arithmetic), so samples never influence their batch-mates. Implementations are called from one engine thread at a
 * time and need not be thread-safe. A failing evaluation throws; the engine fails the samples of that batch and keeps
 * serving the others.
 */
public interface FieldModel extends AutoCloseable {
  /** The class label of a row that asks for none: the unconditional field. */
  int NO_LABEL = -1;

  /** A name for logs and image metadata, e.g. {@code exact:fashion-mnist[256]} or {@code fmnist-pfgm@3}. */
  String name();

  /** The physics this model was trained for (or, for the exact field, is defined by). */
  Physics physics();

  /** The shape of the images; {@code shape().size() == physics().dimension()}. */
  ImageShape shape();

  /**
   * Evaluates rows {@code 0 .. count-1}.
   *
   * @param x inputs, {@code x[i].length == N}
   * @param cond per-row conditioning: z for PFGM, sigma for PFGM++ (positive)
   * @param out outputs, {@code out[i].length == physics().outputDimension()}; overwritten
   * @param count number of rows to evaluate, {@code 1 <= count <= x.length}
   */
  void evaluate(double[][] x, double[] cond, double[][] out, int count);

  /**
   * The class names of a class-conditional model, in index order; empty (the default) for an unconditional one.
   */
  default java.util.List<String> classes() {
    return java.util.List.of();
  }

  /**
   * Rows the model evaluates in each underlying call, a call of fewer being padded to this many (an ONNX network run
   * at a fixed batch size); 1 (the default) for a model whose cost is per row. An engine whose samples do not fill a
   * batch runs a multiple of it where it can, so no call computes padding rows while samples wait.
   */
  default int rowsPerCall() {
    return 1;
  }

  /**
   * Evaluates rows {@code 0 .. count-1} with a class label per row: {@code labels[i]} in
   * {@code 0 .. classes().size() - 1}, or {@link #NO_LABEL} for the unconditional field. The same row-independence
   * contract as {@link #evaluate(double[][], double[], double[][], int)}, which is this with every label
   * {@link #NO_LABEL}. The default serves unconditional models.
   *
   * @throws IllegalArgumentException if a label is not a class of this model
   */
  default void evaluate(double[][] x, double[] cond, int[] labels, double[][] out, int count) {
    checkLabels(this, labels, count);
    evaluate(x, cond, out, count);
  }

  /**
   * Why {@code label} is not a class of {@code model}, or null when it is one (or {@link #NO_LABEL}): the one check
   * behind every model's labelled evaluate and the engine's per-sample check.
   */
  static String labelProblem(FieldModel model, int label) {
    int classes = model.classes().size();
    if (label == NO_LABEL || (label >= 0 && label < classes)) {
      return null;
    }
    return classes == 0 ? model.name() + " is unconditional: it takes no class (got class " + label + ")"
        : "class " + label + " is not one of " + model.name() + "'s " + classes + " classes";
  }

  /** Throws {@link IllegalArgumentException} for the first of the first {@code count} labels that is no class. */
  static void checkLabels(FieldModel model, int[] labels, int count) {
    for (int i = 0; i < count; i++) {
      String problem = labelProblem(model, labels[i]);
      if (problem != null) {
        throw new IllegalArgumentException(problem);
      }
    }
  }

  /**
   * The sampler a request that names none gets: a bundle's measured preset (the fewest-NFE setting whose quality is
   * within 10% of RK45's, chosen by {@code fieldline eval --sweep}), else the family default
   * {@link SamplerSettings#defaultFor}. Part of an image's identity, so a model version keeps its preset.
   */
  default SamplerSettings defaultSampler() {
    return SamplerSettings.defaultFor(physics());
  }

  /** Releases native resources. The default does nothing. */
  @Override
  default void close() {}
}

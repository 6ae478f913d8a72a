package io.fieldline.trainer.internal;

/**
 * A training objective: turns clean images into a {@link TrainingBatch}. Randomness comes from counter-based
 * streams keyed by (run seed, step), so step k draws the same noise whether or not the run was resumed.
 */
public interface Objective {
  /**
   * Builds the batch of one step.
   *
   * @param images the step's clean images in [-1, 1]; objectives may use all of them (PFGM: as charges) but train
   *     on the first {@code rows}
   * @param rows how many rows to train on
   * @param seed the run seed
   * @param step the step number
   */
  TrainingBatch batch(double[][] images, int rows, long seed, long step);

  /**
   * Builds the batch of one step of a class-conditional run. The default is {@link #batch(double[][], int, long,
   * long)}: objectives whose target is one image (PFGM++'s denoiser) need no labels; PFGM's target field does.
   *
   * @param labels the class of every image ({@code images.length} of them)
   * @param rowLabels the class each of the first {@code rows} rows is trained for: its own, or
   *     {@link io.fieldline.core.FieldModel#NO_LABEL} (label dropout: the unconditional target)
   * @param classes the class names
   */
  default TrainingBatch batch(double[][] images, int[] labels, int[] rowLabels, java.util.List<String> classes,
      int rows, long seed, long step) {
    return batch(images, rows, seed, step);
  }
}

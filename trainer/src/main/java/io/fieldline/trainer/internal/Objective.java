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
}

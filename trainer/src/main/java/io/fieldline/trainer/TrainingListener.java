package io.fieldline.trainer;

import java.nio.file.Path;

/** Observes a training run (progress bars, logs). Called on the training thread. */
public interface TrainingListener {
  /**
   * A step finished.
   *
   * @param step the step just done (1-based)
   * @param total the run's last step
   * @param loss this step's loss
   * @param gradNorm the gradient norm before clipping
   * @param learningRate the learning rate used
   */
  default void onStep(long step, long total, double loss, double gradNorm, double learningRate) {}

  /** A checkpoint (and the loss curve) was written. */
  default void onCheckpoint(long step, Path checkpoint) {}
}

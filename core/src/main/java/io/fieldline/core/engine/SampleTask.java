package io.fieldline.core.engine;

import io.fieldline.core.FieldModel;
import io.fieldline.core.SamplerSettings;
import java.time.Instant;
import java.util.Objects;

/**
 * One image to generate: image {@code index} of request {@code requestId} with the request's {@code seed}.
 *
 * <p>The image depends only on (model, seed, index, label, settings): the engine may batch it with anything.
 *
 * @param requestId the request this image belongs to (cancellation acts on all its images)
 * @param index the image's index in its request, {@code >= 0}
 * @param seed the request seed
 * @param settings solver and its settings
 * @param priority larger runs first; equal priorities are served in submission order
 * @param deadline when the image stops being useful, or {@code null} for none; checked between steps
 * @param label the class to draw from, or {@link FieldModel#NO_LABEL} (the unconditional field); a label the model
 *     does not have fails the sample
 */
public record SampleTask(String requestId, long index, long seed, SamplerSettings settings, int priority,
    Instant deadline, int label) {
  public SampleTask {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(settings, "settings");
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, got " + index);
    }
    if (label < FieldModel.NO_LABEL) {
      throw new IllegalArgumentException("label must be a class index or NO_LABEL, got " + label);
    }
  }

  /** A task without a class label. */
  public SampleTask(String requestId, long index, long seed, SamplerSettings settings, int priority,
      Instant deadline) {
    this(requestId, index, seed, settings, priority, deadline, FieldModel.NO_LABEL);
  }

  /** Network evaluations per ODE point: 2 under guidance other than 0 or 1 for a labelled task, else 1. */
  public int evaluationsPerPoint() {
    return settings.evaluationsPerPoint(label != FieldModel.NO_LABEL);
  }

  /** A task with priority 0 and no deadline. */
  public static SampleTask of(String requestId, long index, long seed, SamplerSettings settings) {
    return new SampleTask(requestId, index, seed, settings, 0, null);
  }
}

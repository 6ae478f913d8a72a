package io.fieldline.server;

import io.fieldline.core.FieldModel;
import io.fieldline.core.engine.SampleTask;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Encodes a finished sample as a PNG whose tEXt chunks carry everything needed to regenerate it: model, physics,
 * seed, index, sampler and NFE. Nothing time- or host-dependent goes in, so the same sample always gives the same
 * bytes, whichever process generated it.
 */
public final class SampleImages {
  /** The value of the PNG {@code Software} chunk. */
  public static final String SOFTWARE = "Fieldline";

  private SampleImages() {}

  /**
   * The PNG text entries of a sample, in a fixed order ({@code fieldline.steps} only for fixed-grid solvers; for an
   * image drawn from a class, {@code class} (its index), {@code class_name} and {@code guidance}).
   */
  public static Map<String, String> metadata(FieldModel model, SampleTask task, int nfe) {
    Map<String, String> text = new LinkedHashMap<>();
    text.put("Software", SOFTWARE);
    text.put("fieldline.model", model.name());
    text.put("fieldline.physics", model.physics().describe());
    text.put("fieldline.seed", Long.toString(task.seed()));
    text.put("fieldline.index", Long.toString(task.index()));
    text.put("fieldline.solver", task.settings().solver().id());
    text.put("fieldline.sampler", task.settings().describe());
    if (task.settings().solver() != io.fieldline.core.Solver.RK45) {
      text.put("fieldline.steps", Integer.toString(task.settings().steps()));
    }
    text.put("fieldline.nfe", Integer.toString(nfe));
    if (task.label() != FieldModel.NO_LABEL) {
      // Plain names, as a training job reading labels from the files expects them.
      text.put("class", Integer.toString(task.label()));
      text.put("class_name", className(model, task));
      text.put("guidance", new java.math.BigDecimal(Double.toString(task.settings().guidance())).stripTrailingZeros()
          .toPlainString());
    }
    return text;
  }

  /** The name of a task's class, or null when it has none (or the model does not know it). */
  public static String className(FieldModel model, SampleTask task) {
    int label = task.label();
    return label >= 0 && label < model.classes().size() ? model.classes().get(label) : null;
  }

  /** The PNG of a finished sample. */
  public static byte[] png(FieldModel model, SampleTask task, double[] x, int nfe) {
    byte[] pixels = Pixels.toBytes(x, model.shape());
    return PngEncoder.encode(pixels, model.shape().width(), model.shape().height(), model.shape().channels(),
        metadata(model, task, nfe));
  }
}

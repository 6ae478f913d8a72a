package io.fieldline.server;

import io.fieldline.core.FieldModel;

/** The warm-up forward pass a model must pass before it serves requests that name no version. */
final class WarmUp {
  private WarmUp() {}

  /**
   * Runs one row (a zero image at a mid-range z or sigma of 1) and checks every output is finite; a first call also
   * makes lazy runtimes (ONNX Runtime sessions, JIT) do their start-up work before the model meets real traffic.
   *
   * @throws ModelException if the output is not finite
   */
  static void check(FieldModel model) {
    int n = model.physics().dimension();
    double[][] out = new double[1][model.physics().outputDimension()];
    model.evaluate(new double[1][n], new double[] {1.0}, out, 1); // z = 1 (PFGM) or sigma = 1 (PFGM++): mid-range
    for (double v : out[0]) {
      if (!Double.isFinite(v)) {
        throw new ModelException("warm-up forward pass returned " + v + " (not finite)");
      }
    }
  }
}

package io.fieldline.bench;

import io.fieldline.core.FieldModel;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;

/**
 * A near-free PFGM++ "denoiser" (D(x, sigma) = x / (1 + sigma^2)): O(N) per row, so a benchmark that uses it
 * measures the engine's own bookkeeping, not the model.
 */
final class SyntheticField implements FieldModel {
  private final PfgmppPhysics physics;
  private final ImageShape shape;

  SyntheticField(ImageShape shape) {
    this.shape = shape;
    this.physics = PfgmppPhysics.edmDefaults(shape.size(), 128);
  }

  @Override
  public String name() {
    return "synthetic";
  }

  @Override
  public Physics physics() {
    return physics;
  }

  @Override
  public ImageShape shape() {
    return shape;
  }

  @Override
  public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
    for (int i = 0; i < count; i++) {
      double f = 1 / (1 + cond[i] * cond[i]);
      double[] xi = x[i];
      double[] oi = out[i];
      for (int k = 0; k < xi.length; k++) {
        oi[k] = xi[k] * f;
      }
    }
  }
}

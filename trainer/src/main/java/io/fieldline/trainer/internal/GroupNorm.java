package io.fieldline.trainer.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;

/**
 * Group normalization (DJL 0.36 has none): statistics over each group of C/G channels and all pixels, biased
 * variance, then a per-channel scale and shift. Exported as Reshape, InstanceNormalization, Reshape, Mul, Add
 * (GroupNormalization only exists from opset 18, and its first version scaled per group).
 */
final class GroupNorm extends AbstractBlock {
  private static final float EPS = 1e-5f;
  private final int channels;
  private final int groups;
  private final Parameter gamma;
  private final Parameter beta;

  GroupNorm(int channels, int groups) {
    super((byte) 1);
    if (channels % groups != 0) {
      throw new IllegalArgumentException(channels + " channels do not split into " + groups + " groups");
    }
    this.channels = channels;
    this.groups = groups;
    // Stored in broadcast shape (1, C, 1, 1) so no per-step reshape of a parameter is needed.
    this.gamma = addParameter(Parameter.builder().setName("gamma").setType(Parameter.Type.GAMMA)
        .optShape(new Shape(1, channels, 1, 1)).build());
    this.beta = addParameter(Parameter.builder().setName("beta").setType(Parameter.Type.BETA)
        .optShape(new Shape(1, channels, 1, 1)).build());
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
    NDArray x = inputs.singletonOrThrow();
    Shape s = x.getShape();
    NDArray xr = x.reshape(s.get(0), groups, -1);
    NDArray mean = xr.mean(new int[] {2}, true);
    NDArray centered = xr.sub(mean);
    NDArray var = centered.square().mean(new int[] {2}, true);
    NDArray y = centered.div(var.add(EPS).sqrt()).reshape(s);
    return new NDList(y.mul(ps.getValue(gamma, x.getDevice(), training)).add(ps.getValue(beta, x.getDevice(),
        training)));
  }

  String export(OnnxGraph g, String x) {
    String shape = g.op("Shape", List.of(x));
    String grouped = g.op("Reshape", List.of(x, g.longs("group_shape", 0, groups, -1)));
    float[] ones = new float[groups];
    java.util.Arrays.fill(ones, 1f);
    String normed = g.op("InstanceNormalization",
        List.of(grouped, g.floats("in_scale", ones, groups), g.floats("in_bias", new float[groups], groups)),
        OnnxGraph.real("epsilon", EPS));
    String back = g.op("Reshape", List.of(normed, shape));
    String scaled = g.op("Mul", List.of(back, g.floats("gn_gamma", gamma.getArray().toFloatArray(), 1, channels, 1, 1)));
    return g.op("Add", List.of(scaled, g.floats("gn_beta", beta.getArray().toFloatArray(), 1, channels, 1, 1)));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected void initializeChildBlocks(ai.djl.ndarray.NDManager manager, DataType dataType, Shape... inputShapes) {
    // no children
  }
}

package io.fieldline.trainer.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;

/**
 * A residual block conditioned on the noise embedding: GroupNorm, SiLU, 3x3 conv, plus a per-channel shift from
 * the embedding, GroupNorm, SiLU, 3x3 conv; a 1x1 conv on the skip path when the width changes; the sum is scaled
 * by 1/sqrt(2) (skip rescaling, as in DDPM++). Inputs: x [B, in, H, W] and the embedding [B, E].
 */
final class ResBlock extends AbstractBlock {
  private final int in;
  private final int out;
  private final GroupNorm norm1;
  private final Conv2d conv1;
  private final Linear embed;
  private final GroupNorm norm2;
  private final Conv2d conv2;
  private final Conv2d skip;

  ResBlock(int in, int out, int groups) {
    super((byte) 1);
    this.in = in;
    this.out = out;
    norm1 = addChildBlock("norm1", new GroupNorm(in, groups));
    conv1 = addChildBlock("conv1", Layers.conv(out, 3, 1));
    embed = addChildBlock("embed", Layers.linear(out));
    norm2 = addChildBlock("norm2", new GroupNorm(out, groups));
    conv2 = addChildBlock("conv2", Layers.conv(out, 3, 1));
    skip = in == out ? null : addChildBlock("skip", Layers.conv(out, 1, 1));
  }

  int outChannels() {
    return out;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
    NDArray x = inputs.get(0);
    NDArray emb = inputs.get(1);
    NDArray h = Layers.forward(conv1, ps, Layers.silu(Layers.forward(norm1, ps, x, training)), training);
    NDArray e = Layers.forward(embed, ps, Layers.silu(emb), training);
    h = h.add(e.reshape(e.getShape().get(0), out, 1, 1));
    h = Layers.forward(conv2, ps, Layers.silu(Layers.forward(norm2, ps, h, training)), training);
    NDArray s = skip == null ? x : Layers.forward(skip, ps, x, training);
    return new NDList(h.add(s).mul(Layers.constant(h, Layers.SKIP_SCALE)));
  }

  String export(OnnxGraph g, String x, String emb) {
    String h = Layers.conv(g, conv1, Layers.silu(g, norm1.export(g, x)), 3, 1);
    String e = Layers.linear(g, embed, Layers.silu(g, emb));
    h = g.op("Add", List.of(h, g.op("Reshape", List.of(e, g.longs("emb_shape", -1, out, 1, 1)))));
    h = Layers.conv(g, conv2, Layers.silu(g, norm2.export(g, h)), 3, 1);
    String s = skip == null ? x : Layers.conv(g, skip, x, 1, 1);
    return g.op("Mul", List.of(g.op("Add", List.of(h, s)), g.scalar("skip_scale", Layers.SKIP_SCALE)));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape x = inputShapes[0];
    return new Shape[] {new Shape(x.get(0), out, x.get(2), x.get(3))};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = inputShapes[0];
    Shape e = inputShapes[1];
    Shape hOut = new Shape(x.get(0), out, x.get(2), x.get(3));
    norm1.initialize(manager, dataType, x);
    conv1.initialize(manager, dataType, x);
    embed.initialize(manager, dataType, e);
    norm2.initialize(manager, dataType, hOut);
    conv2.initialize(manager, dataType, hOut);
    if (skip != null) {
      skip.initialize(manager, dataType, x);
    }
  }

  @Override
  public String toString() {
    return "ResBlock(" + in + "->" + out + ")";
  }
}

package io.fieldline.trainer.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;

/**
 * Single-head self-attention over the pixels of a feature map (DDPM++'s AttnBlock): GroupNorm, 1x1 convolutions to
 * queries, keys and values, softmax(q^T k / sqrt(C)) over the H*W positions, a 1x1 output projection, and the
 * residual sum scaled by 1/sqrt(2) like {@link ResBlock}. Cost grows with (H*W)^2, so the network places it at its
 * lowest resolution only (7x7 for 28x28 images). The projection is zero-initialized by the trainer, so a new block
 * starts as a scaled identity.
 */
final class AttentionBlock extends AbstractBlock {
  private final int channels;
  private final GroupNorm norm;
  private final Conv2d query;
  private final Conv2d key;
  private final Conv2d value;
  private final Conv2d projection;

  AttentionBlock(int channels, int groups) {
    super((byte) 1);
    this.channels = channels;
    norm = addChildBlock("norm", new GroupNorm(channels, groups));
    query = addChildBlock("query", Layers.conv(channels, 1, 1));
    key = addChildBlock("key", Layers.conv(channels, 1, 1));
    value = addChildBlock("value", Layers.conv(channels, 1, 1));
    projection = addChildBlock("projection", Layers.conv(channels, 1, 1));
  }

  /** The output projection (zero-initialized for training). */
  Conv2d projection() {
    return projection;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
    NDArray x = inputs.singletonOrThrow();
    Shape s = x.getShape();
    NDArray h = Layers.forward(norm, ps, x, training);
    NDArray q = Layers.forward(query, ps, h, training).reshape(s.get(0), channels, -1);
    NDArray k = Layers.forward(key, ps, h, training).reshape(s.get(0), channels, -1);
    NDArray v = Layers.forward(value, ps, h, training).reshape(s.get(0), channels, -1);
    // w[b, i, j] = softmax_j(sum_c q[b, c, i] k[b, c, j] / sqrt(C)); out[b, c, i] = sum_j v[b, c, j] w[b, i, j]
    NDArray w = q.transpose(0, 2, 1).matMul(k).mul(Layers.constant(q, (float) (1 / Math.sqrt(channels)))).softmax(-1);
    NDArray attended = v.matMul(w.transpose(0, 2, 1)).reshape(s);
    NDArray out = Layers.forward(projection, ps, attended, training);
    return new NDList(x.add(out).mul(Layers.constant(x, Layers.SKIP_SCALE)));
  }

  String export(OnnxGraph g, String x) {
    String shape = g.op("Shape", List.of(x));
    String rows = g.longs("attn_rows", 0, channels, -1);
    String h = norm.export(g, x);
    String q = g.op("Reshape", List.of(Layers.conv(g, query, h, 1, 1), rows));
    String k = g.op("Reshape", List.of(Layers.conv(g, key, h, 1, 1), rows));
    String v = g.op("Reshape", List.of(Layers.conv(g, value, h, 1, 1), rows));
    String qt = g.op("Transpose", List.of(q), OnnxGraph.ints("perm", 0, 2, 1));
    String logits = g.op("Mul", List.of(g.op("MatMul", List.of(qt, k)),
        g.scalar("attn_scale", (float) (1 / Math.sqrt(channels)))));
    String w = g.op("Softmax", List.of(logits), OnnxGraph.integer("axis", -1));
    String wt = g.op("Transpose", List.of(w), OnnxGraph.ints("perm", 0, 2, 1));
    String attended = g.op("Reshape", List.of(g.op("MatMul", List.of(v, wt)), shape));
    String out = Layers.conv(g, projection, attended, 1, 1);
    return g.op("Mul", List.of(g.op("Add", List.of(x, out)), g.scalar("skip_scale", Layers.SKIP_SCALE)));
  }

  /** FLOPs of one sample at {@code h x w}: four 1x1 convolutions and the two (H*W)^2 C products. */
  static long flops(int channels, long h, long w) {
    long positions = h * w;
    return 4 * 2L * channels * channels * positions + 2 * 2L * channels * positions * positions;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = inputShapes[0];
    norm.initialize(manager, dataType, x);
    query.initialize(manager, dataType, x);
    key.initialize(manager, dataType, x);
    value.initialize(manager, dataType, x);
    projection.initialize(manager, dataType, x);
  }

  @Override
  public String toString() {
    return "AttentionBlock(" + channels + ")";
  }
}

package io.fieldline.trainer.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import java.util.List;

/**
 * The few layer primitives of the field network, each written twice side by side: as DJL ops for training, and as
 * ONNX nodes for export. Keeping both in one place is what keeps them equal (a test compares the two).
 */
final class Layers {
  /** The 1/sqrt(2) that residual sums are scaled by (DDPM++'s skip rescaling), in ResBlock and AttentionBlock. */
  static final float SKIP_SCALE = (float) (1 / Math.sqrt(2));

  private Layers() {}

  static Conv2d conv(int filters, int kernel, int stride) {
    return Conv2d.builder().setKernelShape(new Shape(kernel, kernel)).setFilters(filters)
        .optPadding(new Shape(kernel / 2, kernel / 2)).optStride(new Shape(stride, stride)).build();
  }

  static Linear linear(int units) {
    return Linear.builder().setUnits(units).build();
  }

  /** A block's forward pass on one input; convolutions go through {@link #conv(Conv2d, ParameterStore, NDArray, boolean)}. */
  static NDArray forward(Block block, ParameterStore ps, NDArray x, boolean training) {
    if (block instanceof Conv2d conv) {
      return conv(conv, ps, x, training);
    }
    return block.forward(ps, new NDList(x), training).singletonOrThrow();
  }

  /** Output channels are padded up to a multiple of this in {@link #conv(Conv2d, ParameterStore, NDArray, boolean)}. */
  static final int CONV_OUTPUT_BLOCK = 16;

  /**
   * A convolution whose output channels are not a multiple of 16, computed as one with the next multiple (the extra
   * filters zero) and cut back to its own outputs; others run as they are.
   *
   * <p>Why: on some CPUs (seen on an AMD EPYC with avx512_vp2intersect, PyTorch 2.7.1's oneDNN), the input gradient
   * of a convolution with 1, 2, 4, 8 or 24 output channels came out wrong against an exact float64 computation: off by
   * its whole size, or NaN, differently with the thread count and what memory held. With 16, 32 or 48 it was right to
   * 1e-6. Every gradient upstream of such a convolution passes through that input gradient: the network's last
   * convolution has one output per image channel, so training there stalled. The padded filters are zeros made per
   * call, not parameters: parameter shapes, checkpoints and the exported graph stay as they are, and the output is the
   * same convolution (the extra channels are computed and dropped).
   */
  static NDArray conv(Conv2d conv, ParameterStore ps, NDArray x, boolean training) {
    int outputs = conv.getFilters();
    int extra = (CONV_OUTPUT_BLOCK - outputs % CONV_OUTPUT_BLOCK) % CONV_OUTPUT_BLOCK;
    if (extra == 0) {
      return conv.forward(ps, new NDList(x), training).singletonOrThrow();
    }
    NDArray w = ps.getValue(conv.getParameters().get("weight"), x.getDevice(), training);
    NDArray b = ps.getValue(conv.getParameters().get("bias"), x.getDevice(), training);
    Shape ws = w.getShape();
    NDArray padded = w.concat(x.getManager().zeros(new Shape(extra, ws.get(1), ws.get(2), ws.get(3))), 0);
    NDArray paddedBias = b.concat(x.getManager().zeros(new Shape(extra)), 0);
    NDArray y = Conv2d.conv2d(x, padded, paddedBias, conv.getStride(), conv.getPadding(), conv.getDilation(), 1)
        .singletonOrThrow();
    return y.get(new ai.djl.ndarray.index.NDIndex(":, 0:" + outputs));
  }

  /**
   * SiLU = x sigmoid(x), with no number operand: DJL turns a number into a scalar tensor over a Java buffer that it
   * frees right after the forward op, while autograd keeps using it for backward; a GC in between corrupts the
   * gradient (DJL's {@code Activation.swish(x, 1f)} is {@code x.mul(1f)}). See {@link #constant}.
   */
  static NDArray silu(NDArray x) {
    return x.mul(Activation.sigmoid(x));
  }

  /**
   * A constant for an op inside the gradient collector, as a tensor owned by {@code like}'s manager (the training
   * step's scope), so it lives until after backward. Never pass a Java number to mul/div/pow of a tensor that needs
   * a gradient: DJL's scalar tensor for it is freed after the forward op although backward reads it.
   */
  static NDArray constant(NDArray like, float value) {
    return like.getManager().create(value);
  }

  static String silu(OnnxGraph g, String x) {
    return g.op("Mul", List.of(x, g.op("Sigmoid", List.of(x))));
  }

  /** Nearest-neighbour 2x upsampling of [B, C, H, W]. */
  static NDArray upsample(NDArray x) {
    return x.repeat(2, 2).repeat(3, 2);
  }

  static String upsample(OnnxGraph g, String x) {
    String scales = g.floats("scales", new float[] {1, 1, 2, 2}, 4);
    return g.op("Resize", List.of(x, "", scales), OnnxGraph.string("mode", "nearest"),
        OnnxGraph.string("coordinate_transformation_mode", "asymmetric"), OnnxGraph.string("nearest_mode", "floor"));
  }

  static float[] values(Block block, String parameter) {
    return block.getParameters().get(parameter).getArray().toFloatArray();
  }

  static long[] shape(Block block, String parameter) {
    return block.getParameters().get(parameter).getArray().getShape().getShape();
  }

  /** Conv2d with square kernel, "same" padding and the given stride (the only convolutions the network uses). */
  static String conv(OnnxGraph g, Conv2d conv, String x, int kernel, int stride) {
    String w = g.floats("conv_w", values(conv, "weight"), shape(conv, "weight"));
    String b = g.floats("conv_b", values(conv, "bias"), shape(conv, "bias"));
    int pad = kernel / 2;
    return g.op("Conv", List.of(x, w, b), OnnxGraph.ints("kernel_shape", kernel, kernel),
        OnnxGraph.ints("pads", pad, pad, pad, pad), OnnxGraph.ints("strides", stride, stride));
  }

  /** Linear y = x W^T + b as Gemm(transB = 1). */
  static String linear(OnnxGraph g, Linear linear, String x) {
    String w = g.floats("linear_w", values(linear, "weight"), shape(linear, "weight"));
    String b = g.floats("linear_b", values(linear, "bias"), shape(linear, "bias"));
    return g.op("Gemm", List.of(x, w, b), OnnxGraph.integer("transB", 1));
  }
}

package io.fieldline.trainer.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.fieldline.core.ImageShape;
import java.util.List;

/**
 * The small image classifier whose penultimate layer is the feature space of Fieldline's quality metric: conv 3x3
 * (32) ReLU, average pool 2, conv 3x3 (64) ReLU, average pool 2, linear (features, ReLU), linear (classes). Inputs
 * x [B, N] in [-1, 1]; outputs features [B, F] and logits [B, classes]. Written once for DJL and once for ONNX, like
 * {@link FieldNet}.
 */
public final class ClassifierNet extends AbstractBlock {
  private final ImageShape shape;
  private final int features;
  private final int classes;
  private final Conv2d conv1;
  private final Conv2d conv2;
  private final Linear fc1;
  private final Linear fc2;

  public ClassifierNet(ImageShape shape, int features, int classes) {
    super((byte) 1);
    if (shape.height() % 4 != 0 || shape.width() % 4 != 0) {
      throw new IllegalArgumentException("the classifier pools twice: " + shape + " must divide by 4");
    }
    this.shape = shape;
    this.features = features;
    this.classes = classes;
    conv1 = addChildBlock("conv1", Layers.conv(32, 3, 1));
    conv2 = addChildBlock("conv2", Layers.conv(64, 3, 1));
    fc1 = addChildBlock("fc1", Layers.linear(features));
    fc2 = addChildBlock("fc2", Layers.linear(classes));
  }

  private long flat() {
    return 64L * (shape.height() / 4) * (shape.width() / 4);
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
    NDArray x = inputs.singletonOrThrow();
    long batch = x.getShape().get(0);
    NDArray h = x.reshape(batch, shape.channels(), shape.height(), shape.width());
    h = pool(Activation.relu(Layers.forward(conv1, ps, h, training)));
    h = pool(Activation.relu(Layers.forward(conv2, ps, h, training)));
    NDArray f = Activation.relu(Layers.forward(fc1, ps, h.reshape(batch, flat()), training));
    return new NDList(f, Layers.forward(fc2, ps, f, training));
  }

  private static NDArray pool(NDArray x) {
    return Pool.avgPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false, true);
  }

  private static String pool(OnnxGraph g, String x) {
    return g.op("AveragePool", List.of(x), OnnxGraph.ints("kernel_shape", 2, 2), OnnxGraph.ints("strides", 2, 2));
  }

  /** The ONNX graph: input {@code x} [batch, N]; outputs {@code features} and {@code logits}. */
  public OnnxGraph export() {
    OnnxGraph g = new OnnxGraph("fieldline_classifier");
    String x = g.input("x", "batch", shape.size());
    String h = g.op("Reshape", List.of(x, g.longs("image", -1, shape.channels(), shape.height(), shape.width())));
    h = pool(g, g.op("Relu", List.of(Layers.conv(g, conv1, h, 3, 1))));
    h = pool(g, g.op("Relu", List.of(Layers.conv(g, conv2, h, 3, 1))));
    h = g.op("Reshape", List.of(h, g.longs("flat", -1, flat())));
    g.opInto("Relu", List.of(Layers.linear(g, fc1, h)), "features");
    g.opInto("Gemm", List.of("features", g.floats("fc2_w", Layers.values(fc2, "weight"), Layers.shape(fc2, "weight")),
        g.floats("fc2_b", Layers.values(fc2, "bias"), Layers.shape(fc2, "bias"))), "logits",
        OnnxGraph.integer("transB", 1));
    g.output("features", "batch", features);
    g.output("logits", "batch", classes);
    return g;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    long b = inputShapes[0].get(0);
    return new Shape[] {new Shape(b, features), new Shape(b, classes)};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    long b = inputShapes[0].get(0);
    conv1.initialize(manager, dataType, new Shape(b, shape.channels(), shape.height(), shape.width()));
    conv2.initialize(manager, dataType, new Shape(b, 32, shape.height() / 2, shape.width() / 2));
    fc1.initialize(manager, dataType, new Shape(b, flat()));
    fc2.initialize(manager, dataType, new Shape(b, features));
  }
}

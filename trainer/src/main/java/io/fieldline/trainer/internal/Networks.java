package io.fieldline.trainer.internal;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.XavierInitializer;

/** Creating and initializing field networks on the PyTorch engine. */
public final class Networks {
  /** The DJL engine the trainer uses. */
  public static final String ENGINE = "PyTorch";

  private Networks() {}

  /**
   * A network with PyTorch's default weight initialization (uniform +-1/sqrt(fan_in); DJL's own default is about
   * 2.4x wider), biases zero, seeded.
   */
  public static FieldNet create(NetConfig config, NDManager manager, long seed) {
    Engine.getEngine(ENGINE).setRandomSeed((int) seed);
    FieldNet net = new FieldNet(config);
    net.setInitializer(new XavierInitializer(XavierInitializer.RandomType.UNIFORM, XavierInitializer.FactorType.IN, 1f),
        Parameter.Type.WEIGHT);
    Shape[] inputs = config.conditional()
        ? new Shape[] {new Shape(1, config.shape().size()), new Shape(1), new Shape(1, config.classes())}
        : new Shape[] {new Shape(1, config.shape().size()), new Shape(1)};
    net.initialize(manager, DataType.FLOAT32, inputs);
    return net;
  }

  /** Number of trainable values. */
  public static long parameterCount(FieldNet net) {
    long count = 0;
    for (var p : net.getParameters()) {
      count += p.getValue().getArray().size();
    }
    return count;
  }
}

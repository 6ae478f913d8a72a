package io.fieldline.trainer.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OptimizerTest {
  /** One forward/backward of a tiny linear layer whose loss is multiplied by {@code factor} (NaN poisons it). */
  private static void backward(Linear layer, NDManager manager, float factor) {
    try (NDManager scope = manager.newSubManager()) {
      NDArray x = scope.create(new float[] {1f, -2f, 0.5f, 3f, 0.25f, -1f}, new Shape(2, 3));
      try (GradientCollector collector = Engine.getEngine(Networks.ENGINE).newGradientCollector()) {
        NDArray out = layer.forward(new ParameterStore(manager, false), new NDList(x), true).singletonOrThrow();
        collector.backward(out.square().sum().mul(factor));
      }
    }
  }

  @Test
  void shouldSkipANonFiniteGradientAndKeepTrainingOnMemoryItOwns() {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      Linear layer = Linear.builder().setUnits(2).build();
      layer.initialize(manager, DataType.FLOAT32, new Shape(2, 3));
      try (Optimizer optimizer = new Optimizer(layer.getParameters(), manager, 0.9f, 0.999f, 1e-8f)) {
        float[] before = layer.getParameters().get("weight").getArray().toFloatArray();
        backward(layer, manager, Float.NaN);
        double norm;
        try (NDManager scope = manager.newSubManager()) {
          norm = optimizer.step(scope, 1, 1e-2, 0, 0.9);
        }
        assertTrue(Double.isNaN(norm), "a NaN loss gives a NaN gradient norm");
        Parameter weight = layer.getParameters().get("weight");
        float[] after = weight.getArray().toFloatArray();
        for (int i = 0; i < before.length; i++) {
          assertEquals(before[i], after[i], "a skipped step leaves the weights alone");
        }
        // The crash this guards against: the zeroed gradient lived in a Java buffer that the GC freed. Churn direct
        // memory and collect, then the gradient must still read as zeros and accumulate finite values.
        List<ByteBuffer> churn = new ArrayList<>();
        for (int round = 0; round < 20; round++) {
          churn.add(ByteBuffer.allocateDirect(1 << 20));
          if (churn.size() > 4) {
            churn.remove(0);
          }
          System.gc();
        }
        try (NDManager scope = manager.newSubManager()) {
          NDArray g = weight.getArray().getGradient();
          g.attach(scope);
          for (float v : g.toFloatArray()) {
            assertEquals(0f, v, "the skipped gradient is zero");
          }
        }
        backward(layer, manager, 1f);
        try (NDManager scope = manager.newSubManager()) {
          norm = optimizer.step(scope, 2, 1e-2, 0, 0.9);
        }
        assertTrue(Double.isFinite(norm) && norm > 0, "the next finite step trains, norm " + norm);
        float[] trained = weight.getArray().toFloatArray();
        boolean moved = false;
        for (int i = 0; i < before.length; i++) {
          assertFalse(Float.isNaN(trained[i]));
          moved |= trained[i] != before[i];
        }
        assertTrue(moved, "the finite step updated the weights");
      }
    }
  }
}

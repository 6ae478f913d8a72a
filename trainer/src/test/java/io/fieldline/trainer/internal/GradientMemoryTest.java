package io.fieldline.trainer.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.fieldline.core.ImageShape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Backward must not read memory that was freed after the forward pass. DJL makes a Java number operand of mul into a
 * scalar tensor over a direct buffer and closes it right after the op, while autograd saves it for backward; a GC in
 * between then corrupted gradients at random (the network's SiLU, skip scaling and loss weight did this, and training
 * runs saw NaN gradients and runs that did not repeat).
 */
class GradientMemoryTest {
  private static volatile Object kept;

  private static List<float[]> gradients(FieldNet net, NDManager manager, boolean collectGarbage) throws Exception {
    Random r = new Random(4);
    int n = net.config().shape().size();
    float[] x = new float[4 * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    try (NDManager scope = manager.newSubManager()) {
      NDArray xs = scope.create(x, new Shape(4, n));
      NDArray cond = scope.create(new float[] {0.05f, 0.5f, 2f, 20f}, new Shape(4));
      try (GradientCollector collector = Engine.getEngine(Networks.ENGINE).newGradientCollector()) {
        NDArray out = net.forward(new ParameterStore(scope, false), new NDList(xs, cond), true).singletonOrThrow();
        NDArray loss = out.square().mean().mul(Layers.constant(out, 0.5f));
        if (collectGarbage) {
          for (int i = 0; i < 3; i++) { // let the buffers' cleaner run, as a busy training JVM does at random
            System.gc();
            Thread.sleep(50);
          }
          byte[][] churn = new byte[2000][];
          for (int i = 0; i < churn.length; i++) {
            churn[i] = new byte[4096]; // and reuse freed native memory
          }
          kept = churn; // kept reachable, so the allocation is not optimised away
        }
        collector.backward(loss);
      }
      List<float[]> grads = new ArrayList<>();
      for (var p : net.getParameters()) {
        NDArray g = p.getValue().getArray().getGradient();
        grads.add(g.toFloatArray());
        g.set(new ai.djl.ndarray.index.NDIndex("..."), 0f); // zero in place for the next pass
      }
      return grads;
    }
  }

  @Test
  void shouldComputeTheSameGradientsWhenGarbageIsCollectedBetweenForwardAndBackward() throws Exception {
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      NetConfig config = NetConfig.small(new ImageShape(1, 8, 8), false).with(8, new int[] {1, 2}, 1, true);
      FieldNet net = Networks.create(config, manager, 3);
      List<float[]> quiet = gradients(net, manager, false);
      for (int round = 0; round < 3; round++) {
        List<float[]> collected = gradients(net, manager, true);
        for (int i = 0; i < quiet.size(); i++) {
          assertArrayEquals(quiet.get(i), collected.get(i), "parameter " + i + ", round " + round);
        }
      }
    }
  }
}

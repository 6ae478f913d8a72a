package io.fieldline.trainer.eval;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.OnnxFieldModel;
import io.fieldline.trainer.internal.FieldNet;
import io.fieldline.trainer.internal.NetConfig;
import io.fieldline.trainer.internal.Networks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

/**
 * Speed of the field network in one run (a harness, not a test): ONNX Runtime forward rate for batch sizes 1..256
 * through the serving path, achieved GFLOP/s against the analytic FLOP count, and the DJL (PyTorch) block's forward
 * rate at the same batch for comparison. Prints a markdown table for docs/BENCHMARKS.md.
 */
public final class ForwardBenchmark {
  private ForwardBenchmark() {}

  public static void main(String[] args) throws Exception {
    NetConfig config = NetConfig.small(new ImageShape(1, 28, 28), false);
    Path dir = Files.createTempDirectory("fieldline-forward");
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      FieldNet net = Networks.create(config, manager, 1);
      long flops = net.flopsPerSample();
      Files.write(dir.resolve(ModelBundle.WEIGHTS), net.export().model("bench", "bench").toByteArray());
      new ModelBundle(ModelBundle.FORMAT, "bench", "1", "pfgmpp", config.shape(),
          ModelBundle.physicsToJson(PfgmppPhysics.edmDefaults(784, 128)), new JsonObject(), new JsonObject(),
          ModelBundle.sha256(dir.resolve(ModelBundle.WEIGHTS)), null).write(dir);
      System.out.printf(Locale.ROOT, "network: %d parameters, %.3f GFLOP per sample forward%n%n",
          Networks.parameterCount(net), flops / 1e9);
      System.out.println("| batch | ONNX Runtime rows/s | ONNX Runtime GFLOP/s | DJL PyTorch rows/s | ORT / DJL |");
      System.out.println("|---|---|---|---|---|");
      Random random = new Random(1);
      try (OnnxFieldModel onnx = OnnxFieldModel.load(dir, "cpu")) {
        for (int batch : new int[] {1, 4, 16, 64, 128, 256}) {
          double[][] x = new double[batch][784];
          double[] cond = new double[batch];
          double[][] out = new double[batch][784];
          for (int i = 0; i < batch; i++) {
            cond[i] = Math.exp(random.nextGaussian());
            for (int k = 0; k < 784; k++) {
              x[i][k] = random.nextGaussian();
            }
          }
          double ort = rate(() -> onnx.evaluate(x, cond, out, batch), batch);
          float[] flat = new float[batch * 784];
          float[] c = new float[batch];
          double djl = rate(() -> {
            try (NDManager step = manager.newSubManager()) {
              net.forward(new ParameterStore(step, false), new NDList(step.create(flat, new Shape(batch, 784)),
                  step.create(c, new Shape(batch)).add(1f)), false).singletonOrThrow().toFloatArray();
            }
          }, batch);
          System.out.printf(Locale.ROOT, "| %d | %.1f | %.2f | %.1f | %.2f |%n", batch, ort, ort * flops / 1e9, djl,
              ort / djl);
        }
      }
    }
  }

  /** Rows per second: warm up, then time at least 2 s. */
  private static double rate(Runnable call, int batch) {
    for (int i = 0; i < 3; i++) {
      call.run();
    }
    long start = System.nanoTime();
    int calls = 0;
    while (System.nanoTime() - start < 2_000_000_000L) {
      call.run();
      calls++;
    }
    return (double) calls * batch / ((System.nanoTime() - start) / 1e9);
  }
}

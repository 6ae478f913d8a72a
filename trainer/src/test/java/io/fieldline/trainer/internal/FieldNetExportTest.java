package io.fieldline.trainer.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.OnnxFieldModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exported ONNX graph, run by ONNX Runtime through the serving path, equals the DJL block. */
class FieldNetExportTest {
  private static final ImageShape SHAPE = new ImageShape(1, 28, 28);

  @TempDir
  Path dir;

  @Test
  void shouldMatchTheDjlBlockForPfgm() throws Exception {
    assertExportMatches(true, new PfgmPhysics(784, 40, 1e-3, 1400, 5, 0), new double[] {1e-3, 0.05, 1, 10, 40});
  }

  @Test
  void shouldMatchTheDjlBlockForPfgmpp() throws Exception {
    assertExportMatches(false, PfgmppPhysics.edmDefaults(784, 128), new double[] {0.002, 0.1, 1, 20, 80});
  }

  @Test
  void shouldMatchTheDjlBlockWithAttentionAndMoreBlocks() throws Exception {
    NetConfig config = NetConfig.small(SHAPE, false).with(16, new int[] {1, 2, 4}, 2, true);
    assertExportMatches(config, PfgmppPhysics.edmDefaults(784, 128), new double[] {0.002, 0.1, 1, 20, 80});
  }

  @Test
  void shouldGiveEachRowTheSameBitsWhateverItsBatchMates() throws Exception {
    Physics physics = PfgmppPhysics.edmDefaults(784, 128);
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      FieldNet net = Networks.create(NetConfig.small(SHAPE, false), manager, 11);
      Path bundle = export(net, physics, false);
      Random random = new Random(5);
      double[][] mates = new double[40][784];
      double[] conds = new double[40];
      for (int i = 0; i < 40; i++) {
        conds[i] = 0.01 + 30 * random.nextDouble();
        for (int k = 0; k < 784; k++) {
          mates[i][k] = conds[i] * random.nextGaussian();
        }
      }
      try (OnnxFieldModel onnx = OnnxFieldModel.load(bundle, "cpu")) {
        double[][] alone = new double[1][784];
        onnx.evaluate(new double[][] {mates[0]}, new double[] {conds[0]}, alone, 1);
        double[][] inForty = new double[40][784];
        double[][] rotated = new double[40][];
        double[] rotatedConds = new double[40];
        for (int i = 0; i < 40; i++) { // row 0 lands at position 23, among other mates
          rotated[(i + 23) % 40] = mates[i];
          rotatedConds[(i + 23) % 40] = conds[i];
        }
        onnx.evaluate(rotated, rotatedConds, inForty, 40);
        double[][] inSeven = new double[7][784];
        double[][] seven = new double[7][];
        double[] sevenConds = new double[7];
        for (int i = 0; i < 7; i++) {
          seven[i] = mates[(i * 5) % 40];
          sevenConds[i] = conds[(i * 5) % 40];
        }
        onnx.evaluate(seven, sevenConds, inSeven, 7);
        assertTrue(java.util.Arrays.equals(alone[0], inForty[23]), "alone vs position 23 of 40");
        assertTrue(java.util.Arrays.equals(alone[0], inSeven[0]), "alone vs first of 7");
        assertTrue(java.util.Arrays.equals(inForty[(5 + 23) % 40], inSeven[1]), "another row, two batches");
      }
    }
  }

  private Path export(FieldNet net, Physics physics, boolean pfgm) throws Exception {
    Path bundle = Files.createDirectories(dir.resolve(pfgm ? "pfgm" : "pfgmpp"));
    Files.write(bundle.resolve(ModelBundle.WEIGHTS), net.export().model("test", "export test").toByteArray());
    new ModelBundle(ModelBundle.FORMAT, "test", "1", pfgm ? "pfgm" : "pfgmpp", SHAPE,
        ModelBundle.physicsToJson(physics), new JsonObject(), new JsonObject(),
        ModelBundle.sha256(bundle.resolve(ModelBundle.WEIGHTS)), null).write(bundle);
    return bundle;
  }

  private void assertExportMatches(boolean pfgm, Physics physics, double[] conds) throws Exception {
    assertExportMatches(NetConfig.small(SHAPE, pfgm), physics, conds);
  }

  private void assertExportMatches(NetConfig config, Physics physics, double[] conds) throws Exception {
    boolean pfgm = config.pfgm();
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      FieldNet net = Networks.create(config, manager, 7);
      // Perturb the zero-ish biases and norms so every parameter matters in the comparison.
      Random random = new Random(3);
      for (var p : net.getParameters()) {
        NDArray a = p.getValue().getArray();
        float[] v = a.toFloatArray();
        for (int i = 0; i < v.length; i++) {
          v[i] += (float) (0.05 * random.nextGaussian());
        }
        a.set(v);
      }
      Path bundle = export(net, physics, pfgm);
      try (OnnxFieldModel onnx = OnnxFieldModel.load(bundle, "cpu")) {
        for (int batch : new int[] {1, 3, 64}) {
          double[][] x = new double[batch][784];
          double[] cond = new double[batch];
          for (int i = 0; i < batch; i++) {
            cond[i] = conds[i % conds.length];
            double scale = pfgm ? 1 + cond[i] : Math.sqrt(1 + cond[i] * cond[i]);
            for (int k = 0; k < 784; k++) {
              x[i][k] = scale * random.nextGaussian();
            }
          }
          double[][] viaOnnx = new double[batch][physics.outputDimension()];
          onnx.evaluate(x, cond, viaOnnx, batch);
          float[] viaDjl = djlForward(net, manager, x, cond);
          double worst = 0;
          double norm = 0;
          for (int i = 0; i < batch; i++) {
            for (int k = 0; k < physics.outputDimension(); k++) {
              double a = viaDjl[i * physics.outputDimension() + k];
              worst = Math.max(worst, Math.abs(a - viaOnnx[i][k]));
              norm = Math.max(norm, Math.abs(a));
            }
          }
          // Relative to the largest output: float32 graphs of ~30 layers agree to ~1e-6 of their scale.
          assertTrue(worst <= 1e-4 * norm, "batch " + batch + ": max difference " + worst + ", scale " + norm);
        }
      }
    }
  }

  private static float[] djlForward(FieldNet net, NDManager manager, double[][] x, double[] cond) {
    int batch = x.length;
    float[] flat = new float[batch * 784];
    float[] c = new float[batch];
    for (int i = 0; i < batch; i++) {
      for (int k = 0; k < 784; k++) {
        flat[i * 784 + k] = (float) x[i][k];
      }
      c[i] = (float) cond[i];
    }
    try (NDManager step = manager.newSubManager()) {
      NDList out = net.forward(new ParameterStore(step, false),
          new NDList(step.create(flat, new Shape(batch, 784)), step.create(c, new Shape(batch))), false);
      return out.singletonOrThrow().toFloatArray();
    }
  }
}

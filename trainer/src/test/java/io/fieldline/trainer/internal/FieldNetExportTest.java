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
  void shouldMatchTheDjlBlockWithAClassLabelAndNoLabelRows() throws Exception {
    NetConfig config = NetConfig.small(SHAPE, false).withClasses(10);
    assertExportMatches(config, PfgmppPhysics.edmDefaults(784, 128), new double[] {0.002, 0.1, 1, 20, 80});
  }

  @Test
  void shouldStartAConditionalNetworkExactlyAsTheUnconditionalOneForEveryLabel() throws Exception {
    Physics physics = PfgmppPhysics.edmDefaults(784, 128);
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      FieldNet plain = Networks.create(NetConfig.small(SHAPE, false), manager, 7);
      perturb(plain, new Random(4));
      FieldNet conditional = Networks.create(NetConfig.small(SHAPE, false).withClasses(10), manager, 8);
      for (var p : conditional.zeroInitializedParameters()) {
        p.getArray().muli(0);
      }
      try (Optimizer from = new Optimizer(plain.getParameters(), manager, 0.9f, 0.999f, 1e-8f);
          Optimizer to = new Optimizer(conditional.getParameters(), manager, 0.9f, 0.999f, 1e-8f)) {
        java.util.List<String> fresh = to.restoreMatching(from.snapshot());
        assertTrue(fresh.size() == 1 && fresh.get(0).contains("label_embed"), "only the label embedding is new: "
            + fresh);
      }
      Random random = new Random(9);
      int batch = 11;
      double[][] x = new double[batch][784];
      double[] cond = new double[batch];
      int[] labels = new int[batch];
      for (int i = 0; i < batch; i++) {
        cond[i] = 0.002 * Math.pow(40000, i / (double) (batch - 1));
        labels[i] = i < 10 ? i : io.fieldline.core.FieldModel.NO_LABEL;
        for (int k = 0; k < 784; k++) {
          x[i][k] = Math.sqrt(1 + cond[i] * cond[i]) * random.nextGaussian();
        }
      }
      float[] expected = djlForward(plain, manager, x, cond, null);
      float[] actual = djlForward(conditional, manager, x, cond, labels);
      assertTrue(java.util.Arrays.equals(expected, actual), "DJL: every label gives the unconditional output");
      Path plainBundle = export(plain, physics, false);
      Path condBundle = export(conditional, physics, false, "conditional");
      try (OnnxFieldModel a = OnnxFieldModel.load(plainBundle, "cpu");
          OnnxFieldModel b = OnnxFieldModel.load(condBundle, "cpu")) {
        double[][] outA = new double[batch][784];
        double[][] outB = new double[batch][784];
        a.evaluate(x, cond, outA, batch);
        b.evaluate(x, cond, labels, outB, batch);
        for (int i = 0; i < batch; i++) {
          for (int k = 0; k < 784; k++) {
            assertTrue(Math.abs(outA[i][k] - outB[i][k]) <= 1e-6 * (1 + Math.abs(outA[i][k])),
                "ONNX row " + i + " (label " + labels[i] + ") value " + k + ": " + outA[i][k] + " vs " + outB[i][k]);
          }
        }
      }
    }
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
    return export(net, physics, pfgm, pfgm ? "pfgm" : "pfgmpp");
  }

  private Path export(FieldNet net, Physics physics, boolean pfgm, String name) throws Exception {
    Path bundle = Files.createDirectories(dir.resolve(name));
    Files.write(bundle.resolve(ModelBundle.WEIGHTS), net.export().model("test", "export test").toByteArray());
    int classes = net.config().classes();
    new ModelBundle(ModelBundle.FORMAT, "test", "1", pfgm ? "pfgm" : "pfgmpp", SHAPE,
        ModelBundle.physicsToJson(physics), new JsonObject(), new JsonObject(),
        ModelBundle.sha256(bundle.resolve(ModelBundle.WEIGHTS)), null,
        classes == 0 ? null : java.util.stream.IntStream.range(0, classes).mapToObj(c -> "class" + c).toList())
        .write(bundle);
    return bundle;
  }

  /** Perturbs every parameter (the zero-ish biases, norms and zero-initialized layers) so each one matters. */
  private static void perturb(FieldNet net, Random random) {
    for (var p : net.getParameters()) {
      NDArray a = p.getValue().getArray();
      float[] v = a.toFloatArray();
      for (int i = 0; i < v.length; i++) {
        v[i] += (float) (0.05 * random.nextGaussian());
      }
      a.set(v);
    }
  }

  private void assertExportMatches(boolean pfgm, Physics physics, double[] conds) throws Exception {
    assertExportMatches(NetConfig.small(SHAPE, pfgm), physics, conds);
  }

  private void assertExportMatches(NetConfig config, Physics physics, double[] conds) throws Exception {
    boolean pfgm = config.pfgm();
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      FieldNet net = Networks.create(config, manager, 7);
      Random random = new Random(3);
      perturb(net, random);
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
          int[] labels = null;
          if (config.conditional()) { // every class and "no label", in mixed order
            labels = new int[batch];
            for (int i = 0; i < batch; i++) {
              int c = (i * 7) % (config.classes() + 1);
              labels[i] = c == config.classes() ? io.fieldline.core.FieldModel.NO_LABEL : c;
            }
            onnx.evaluate(x, cond, labels, viaOnnx, batch);
          } else {
            onnx.evaluate(x, cond, viaOnnx, batch);
          }
          float[] viaDjl = djlForward(net, manager, x, cond, labels);
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

  private static float[] djlForward(FieldNet net, NDManager manager, double[][] x, double[] cond, int[] labels) {
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
      NDList inputs = new NDList(step.create(flat, new Shape(batch, 784)), step.create(c, new Shape(batch)));
      int classes = net.config().classes();
      if (classes > 0) {
        int[] l = labels != null ? labels : new int[batch];
        if (labels == null) {
          java.util.Arrays.fill(l, io.fieldline.core.FieldModel.NO_LABEL);
        }
        inputs.add(step.create(FieldNet.oneHot(l, classes), new Shape(batch, classes)));
      }
      NDList out = net.forward(new ParameterStore(step, false), inputs, false);
      return out.singletonOrThrow().toFloatArray();
    }
  }
}

package io.fieldline.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.fieldline.core.data.Dataset;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.OnnxFieldModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fieldline quantize} on a small trained conditional network: a servable int8 bundle close to the float one. */
class BundleQuantizerTest {
  @TempDir
  static Path dir;
  static Path source;
  static BundleQuantizer.Report report;

  @BeforeAll
  static void quantizeATrainedConditionalNetwork() throws Exception {
    Dataset data = FieldTrainerTest.toy(64).withLabels(java.util.stream.IntStream.range(0, 64).map(i -> i % 2)
        .toArray(), List.of("left", "top"));
    Path run = dir.resolve("run");
    FieldTrainer.builder().setData(data).setRunDir(run)
        .setSettings(FieldTrainerTest.tiny("pfgmpp", 20).withLabels(new TrainSettings.Labels(List.of("left", "top"),
            0.2))).build().train();
    source = dir.resolve("toy");
    BundleExporter.export(run, source, "toy", "3");
    report = BundleQuantizer.builder().setSource(source).setOut(dir.resolve("toy-int8")).optTrajectories(6).build()
        .quantize();
  }

  @Test
  void shouldWriteAVerifiedInt8BundleThatKeepsTheSourcesPhysicsClassesAndPreset() throws Exception {
    ModelBundle from = ModelBundle.read(source);
    ModelBundle b = ModelBundle.read(dir.resolve("toy-int8")); // the hash is checked
    assertEquals("toy-int8", b.name());
    assertEquals("int8", b.precision());
    assertEquals(from.physics().describe(), b.physics().describe());
    assertEquals(from.classNames(), b.classNames());
    assertEquals(from.defaultSampler(), b.defaultSampler());
    assertTrue(List.of(8, 16, 32, 64).contains(b.rowsPerCall()), "rows per call " + b.rowsPerCall());
    String card = Files.readString(dir.resolve("toy-int8/card.md"));
    for (BundleQuantizer.Layer l : report.layers()) {
      assertTrue(card.contains("| " + l.node() + " | " + l.op() + " |"), "the card lists " + l.node());
    }
    assertTrue(Files.exists(dir.resolve("toy-int8/samples.png")));
  }

  @Test
  void shouldStoreEveryQuantizedLayersWeightsAsInt8AndDropItsFloatWeights() throws Exception {
    ModelProto q = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("toy-int8").resolve(ModelBundle.WEIGHTS)));
    ModelProto f = ModelProto.parseFrom(Files.readAllBytes(source.resolve(ModelBundle.WEIGHTS)));
    long quantized = report.layers().stream().filter(BundleQuantizer.Layer::quantized).count();
    assertTrue(quantized > 0, "some layer is quantized");
    long int8Weights = q.getGraph().getInitializerList().stream()
        .filter(t -> t.getDataType() == TensorProto.DataType.INT8.getNumber() && t.getName().endsWith("_w_q")).count();
    assertEquals(quantized, int8Weights);
    long convAndGemm = q.getGraph().getNodeList().stream()
        .filter(n -> n.getOpType().equals("Conv") || n.getOpType().equals("Gemm")).count();
    assertEquals(f.getGraph().getNodeList().stream()
        .filter(n -> n.getOpType().equals("Conv") || n.getOpType().equals("Gemm")).count(), convAndGemm);
    for (NodeProto n : q.getGraph().getNodeList()) {
      boolean layer = report.layers().stream().anyMatch(l -> l.quantized() && l.node().equals(n.getName()));
      if (layer) {
        assertTrue(n.getInput(1).endsWith("_w_dq") && n.getInput(2).endsWith("_b_dq"), n.getName());
      }
    }
    assertTrue(q.getSerializedSize() < f.getSerializedSize(), "int8 weights make a smaller file");
  }

  @Test
  void shouldStayCloseToTheFloatNetworkOnInputsOfEveryNoiseLevelAndLabel() throws Exception {
    Random random = new Random(5);
    int rows = 24;
    double[][] x = new double[rows][64];
    double[] cond = new double[rows];
    int[] labels = new int[rows];
    for (int i = 0; i < rows; i++) {
      cond[i] = Math.exp(Math.log(0.002) + i * (Math.log(80) - Math.log(0.002)) / (rows - 1));
      labels[i] = i % 3 == 2 ? io.fieldline.core.FieldModel.NO_LABEL : i % 3;
      for (int k = 0; k < 64; k++) {
        x[i][k] = 0.8 * Math.signum(random.nextGaussian()) + cond[i] * random.nextGaussian();
      }
    }
    double[][] outF = new double[rows][64];
    double[][] outQ = new double[rows][64];
    try (OnnxFieldModel f = OnnxFieldModel.load(source, "cpu");
        OnnxFieldModel q = OnnxFieldModel.load(dir.resolve("toy-int8"), "cpu")) {
      f.evaluate(x, cond, labels, outF, rows);
      q.evaluate(x, cond, labels, outQ, rows);
    }
    double num = 0;
    double den = 0;
    boolean differs = false;
    for (int i = 0; i < rows; i++) {
      for (int k = 0; k < 64; k++) {
        num += (outQ[i][k] - outF[i][k]) * (outQ[i][k] - outF[i][k]);
        den += outF[i][k] * outF[i][k];
        differs |= outQ[i][k] != outF[i][k];
      }
    }
    assertTrue(differs, "the int8 network computes something else than the float one");
    // 8-bit activations carry ~1/255 of their range each; over a handful of layers that is a few percent at most.
    assertTrue(Math.sqrt(num / den) < 0.05, "relative error " + Math.sqrt(num / den));
  }

  @Test
  void shouldGiveARowTheSameBitsAloneAndAmongFortyAtTheBundlesRowsPerCall() throws Exception {
    Random random = new Random(9);
    double[][] mates = new double[40][64];
    double[] conds = new double[40];
    int[] labels = new int[40];
    for (int i = 0; i < 40; i++) {
      conds[i] = Math.exp(2 * random.nextGaussian());
      labels[i] = i % 2;
      for (int k = 0; k < 64; k++) {
        mates[i][k] = random.nextGaussian();
      }
    }
    double[][] inForty = new double[40][64];
    double[][] alone = new double[1][64];
    try (OnnxFieldModel q = OnnxFieldModel.load(dir.resolve("toy-int8"), "cpu")) {
      assertEquals(report.rowsPerCall(), q.rowsPerCall());
      q.evaluate(mates, conds, labels, inForty, 40);
      q.evaluate(new double[][] {mates[23]}, new double[] {conds[23]}, new int[] {labels[23]}, alone, 1);
    }
    assertArrayEquals(inForty[23], alone[0]);
  }

  @Test
  void shouldKeepALayerFloatWhenItsErrorAloneIsOverTheLimitAndRefuseWhenNoneIsLeft() throws Exception {
    double median = report.layers().stream().mapToDouble(BundleQuantizer.Layer::errorAlone).sorted()
        .toArray()[report.layers().size() / 2];
    BundleQuantizer.Report strict = BundleQuantizer.builder().setSource(source).setOut(dir.resolve("strict"))
        .optTrajectories(6).optMaxLayerError(median).build().quantize();
    for (BundleQuantizer.Layer l : strict.layers()) {
      assertEquals(l.errorAlone() <= median, l.quantized(), l.toString());
    }
    assertTrue(strict.layers().stream().anyMatch(l -> !l.quantized()));
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> BundleQuantizer.builder()
        .setSource(source).setOut(dir.resolve("none")).optTrajectories(2).optMaxLayerError(1e-12).build()
        .quantize());
    assertTrue(none.getMessage().contains("nothing quantized"), none.getMessage());
    assertFalse(Files.exists(dir.resolve("none").resolve(ModelBundle.WEIGHTS)));
  }

  @Test
  void shouldRefuseAnInt8SourceAndAnOutputOverTheSource() {
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> BundleQuantizer.builder()
        .setSource(dir.resolve("toy-int8")).setOut(dir.resolve("again")).build().quantize());
    assertTrue(twice.getMessage().contains("already an int8 bundle"), twice.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BundleQuantizer.builder().setSource(source).setOut(source)
        .build());
    assertThrows(IllegalArgumentException.class, () -> BundleQuantizer.builder().optTrajectories(0));
  }

  @Test
  void shouldKeepSixteenRowsPerCallUnlessAnotherSizeIsClearlyFaster() {
    java.util.Map<Integer, double[]> close = new java.util.LinkedHashMap<>();
    close.put(8, new double[] {104, 50});
    close.put(16, new double[] {100, 50});
    close.put(32, new double[] {98, 50});
    assertEquals(16, BundleQuantizer.chooseRowsPerCall(close), "4% is timing noise, not a reason to change bits");
    close.put(64, new double[] {125, 50});
    assertEquals(64, BundleQuantizer.chooseRowsPerCall(close));
    assertThrows(IllegalArgumentException.class, () -> BundleQuantizer.builder().optRowsPerCall(0));
  }
}

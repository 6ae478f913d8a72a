package io.fieldline.trainer;

import io.fieldline.core.Flows;
import io.fieldline.core.data.ToySets;
import io.fieldline.core.engine.SampleResult;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.ImageShape;
import io.fieldline.core.data.Dataset;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.ModelException;
import io.fieldline.server.OnnxFieldModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training on tiny 8x8 images with a width-8 network: seconds, not hours. */
class FieldTrainerTest {
  @TempDir
  Path dir;

  /** Two kinds of 8x8 images: a bright left half or a bright top half, with a little noise. */
  static Dataset toy(int count) {
    Random r = new Random(11);
    double[][] images = new double[count][64];
    for (int i = 0; i < count; i++) {
      boolean left = i % 2 == 0;
      for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
          images[i][y * 8 + x] = ((left ? x < 4 : y < 4) ? 0.8 : -0.8) + 0.1 * r.nextGaussian();
        }
      }
    }
    return new Dataset("toy", new ImageShape(1, 8, 8), images);
  }

  static TrainSettings tiny(String kind, long steps) {
    return new TrainSettings(kind, kind.equals("pfgm") ? 1 : 16, steps, 8, kind.equals("pfgm") ? 32 : 8, 2e-3, 2,
        0.9, kind.equals("pfgm") ? 1.0 : 0.0, 5, 8, 0, 3);
  }

  private static double[] losses(Path run) throws Exception {
    List<String> lines = Files.readAllLines(run.resolve("loss.csv"));
    return lines.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[1])).toArray();
  }

  private RunInfo train(Dataset data, TrainSettings settings, Path run) throws Exception {
    return FieldTrainer.builder().setData(data).setSettings(settings).setRunDir(run).build().train();
  }

  @Test
  void shouldContinueTheSameLossTrajectoryAfterResuming() throws Exception {
    for (String kind : new String[] {"pfgm", "pfgmpp"}) {
      Path straight = dir.resolve(kind + "-straight");
      Path resumed = dir.resolve(kind + "-resumed");
      train(toy(64), tiny(kind, 6), straight);
      train(toy(64), tiny(kind, 3), resumed);
      assertTrue(Files.exists(resumed.resolve("checkpoint.bin")));
      // A crash after the checkpoint left a logged step that will run again: it must not appear twice.
      Files.writeString(resumed.resolve("loss.csv"), "4,1.0,1.0,0.001,9.9\n", java.nio.file.StandardOpenOption.APPEND);
      train(toy(64), tiny(kind, 6), resumed);
      double[] a = losses(straight);
      double[] b = losses(resumed);
      assertEquals(6, a.length);
      assertEquals(6, b.length);
      for (int i = 0; i < 6; i++) {
        assertEquals(a[i], b[i], 1e-4 * Math.abs(a[i]), kind + " step " + (i + 1));
      }
      assertTrue(Files.exists(straight.resolve("loss.png")));
    }
  }

  @Test
  void shouldRefuseToResumeWithOtherSettings() throws Exception {
    Path run = dir.resolve("run");
    train(toy(16), tiny("pfgmpp", 3), run);
    TrainSettings other = new TrainSettings("pfgmpp", 16, 6, 8, 8, 1e-4, 2, 0.9, 0, 5, 8, 0, 3);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(toy(16), other, run));
    assertTrue(e.getMessage().contains("other settings"), e.getMessage());
  }

  @Test
  void shouldTrainAndExportAChosenArchitectureAndRefuseToResumeWithAnother() throws Exception {
    Path run = dir.resolve("arch");
    TrainSettings.Architecture twoLevelsWithAttention = new TrainSettings.Architecture(new int[] {1, 2}, 2, true);
    TrainSettings chosen = tiny("pfgmpp", 3).withArchitecture(twoLevelsWithAttention);
    RunInfo info = train(toy(16), chosen, run);
    RunInfo without = train(toy(16), tiny("pfgmpp", 3).withArchitecture(
        new TrainSettings.Architecture(new int[] {1, 2}, 2, false)), dir.resolve("no-attention"));
    // At the lowest level (width 8 x 2 = 16 channels): query, key, value and projection 1x1 convolutions with bias,
    // plus the GroupNorm's scale and shift.
    int c = 16;
    assertEquals(4 * (c * c + c) + 2 * c, info.parameters() - without.parameters());
    // run.json keeps the architecture, so a resume builds the same network.
    assertEquals(twoLevelsWithAttention, RunInfo.read(run).settings().architecture());

    Path bundle = dir.resolve("arch-bundle");
    BundleExporter.export(run, bundle, "arch", "1");
    String card = Files.readString(bundle.resolve("card.md"));
    assertTrue(card.contains("--levels 1,2 --blocks 2 --attention"), card);
    assertTrue(card.contains("self-attention"), card);
    try (OnnxFieldModel model = OnnxFieldModel.load(bundle, "cpu")) {
      double[][] out = new double[1][64];
      model.evaluate(new double[][] {new double[64]}, new double[] {1.0}, out, 1);
      assertTrue(java.util.Arrays.stream(out[0]).allMatch(Double::isFinite));
    }

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> train(toy(16), tiny("pfgmpp", 6), run));
    assertTrue(e.getMessage().contains("attention=true"), e.getMessage());
  }

  @Test
  void shouldReadRunsWrittenBeforeArchitectureSettingsAsTheDefaultNetwork() throws Exception {
    Path run = dir.resolve("old");
    train(toy(16), tiny("pfgmpp", 3), run);
    String json = Files.readString(run.resolve(RunInfo.FILE));
    assertTrue(!json.contains("architecture"), "a default run writes no architecture: " + json);
    TrainSettings read = RunInfo.read(run).settings();
    assertEquals(null, read.architecture());
    assertEquals(tiny("pfgmpp", 3).fingerprint(), read.fingerprint());
    assertTrue(!read.fingerprint().contains("levels"), read.fingerprint());
    // Naming the default architecture explicitly is the same run, not "other settings".
    TrainSettings explicit = tiny("pfgmpp", 4).withArchitecture(new TrainSettings.Architecture(new int[] {1, 2, 2}, 1,
        false));
    train(toy(16), explicit, run);
    assertEquals(4, losses(run).length);
  }

  @Test
  void shouldLowerTheLossOnAToyProblem() throws Exception {
    Path run = dir.resolve("learn");
    train(toy(256), tiny("pfgmpp", 60), run);
    double[] l = losses(run);
    double first = java.util.Arrays.stream(l, 0, 10).average().orElseThrow();
    double last = java.util.Arrays.stream(l, 50, 60).average().orElseThrow();
    // Seeds are fixed, so this is deterministic up to float summation order; measured 0.53 after 80 steps.
    assertTrue(last < 0.75 * first, "loss went from " + first + " to " + last);
  }

  @Test
  void shouldWarmStartAConditionalRunFromAnUnconditionalCheckpoint() throws Exception {
    Dataset data = toy(64).withLabels(java.util.stream.IntStream.range(0, 64).map(i -> i % 2).toArray(),
        List.of("left", "top"));
    Path plain = dir.resolve("plain");
    train(data, tiny("pfgmpp", 3), plain);
    TrainSettings conditional = tiny("pfgmpp", 6).withLabels(new TrainSettings.Labels(List.of("left", "top"), 0.1));
    Path run = dir.resolve("conditional");
    RunInfo info = FieldTrainer.builder().setData(data).setSettings(conditional).setRunDir(run).optInitFrom(plain)
        .build().train();
    assertEquals(plain + " at step 3", info.initFrom());
    assertEquals(6, losses(run).length, "the source's 3 steps and 3 more: the loss history continues");
    double[] before = losses(plain);
    for (int i = 0; i < 3; i++) {
      assertEquals(before[i], losses(run)[i]);
    }
    ModelBundle bundle = BundleExporter.export(run, dir.resolve("conditional-model"), "toy-cond", "1");
    assertEquals(List.of("left", "top"), bundle.classes());
    // The other network shape is refused, naming what differs.
    TrainSettings wider = new TrainSettings("pfgmpp", 16, 6, 8, 8, 2e-3, 2, 0.9, 0, 5, 16, 0, 3)
        .withLabels(conditional.labels());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FieldTrainer.builder()
        .setData(data).setSettings(wider).setRunDir(dir.resolve("wider")).optInitFrom(plain).build().train());
    assertTrue(e.getMessage().contains("another network"), e.getMessage());
    // Labels the data does not have are refused.
    assertThrows(IllegalArgumentException.class, () -> train(toy(64), conditional, dir.resolve("unlabelled")));
  }

  @Test
  void shouldDrawEachRequestedGaussianThroughOnnxRuntimeAfterConditionalTraining() throws Exception {
    Dataset data = ToySets.generate("gaussians", 4000, 0);
    TrainSettings settings = new TrainSettings("pfgmpp", 128, 400, 128, 128, 2e-3, 50, 0.99, 0, 0, 16, 0, 400)
        .withLabels(new TrainSettings.Labels(data.classes(), 0.1));
    Path run = dir.resolve("gaussians-cond");
    train(data, settings, run);
    Path bundleDir = dir.resolve("gaussians-cond-model");
    BundleExporter.export(run, bundleDir, "gaussians-cond", "1");
    assertMostLandOnTheirRequestedGaussian(bundleDir, 400);
  }

  /** Samples n points of classes i mod 8 through ONNX Runtime and the engine; >= 90% must be on their own mode. */
  private static void assertMostLandOnTheirRequestedGaussian(Path bundleDir, int n) throws Exception {
    int onMode = 0;
    int[] hits = new int[8];
    try (OnnxFieldModel model = OnnxFieldModel.load(bundleDir, "cpu")) {
      assertEquals(8, model.classes().size());
      for (SampleResult r : Flows.sampleAll(List.of(model), model.defaultSampler(), "t", 0, i -> i % 8, n, 64,
          done -> { })) {
        int k = r.task().label();
        double a = 2 * Math.PI * k / 8;
        if (Math.hypot(r.x()[0] - 0.8 * Math.cos(a), r.x()[1] - 0.8 * Math.sin(a)) < 0.2) {
          onMode++; // within 4 standard deviations of mode k, and 0.61 from the next mode
          hits[k]++;
        }
      }
    }
    assertTrue(onMode >= 0.9 * n, onMode + " of " + n + " on their requested mode; per class "
        + java.util.Arrays.toString(hits));
  }

  @Test
  void shouldDrawEachRequestedGaussianWithAConditionalPfgmNetwork() throws Exception {
    // PFGM (D = 1): each row regresses on the field of its class's charges alone.
    Dataset data = ToySets.generate("gaussians", 4000, 0);
    TrainSettings settings = new TrainSettings("pfgm", 1, 600, 128, 1024, 2e-3, 50, 0.99, 1.0, 0, 16, 0, 600)
        .withLabels(new TrainSettings.Labels(data.classes(), 0.1));
    Path run = dir.resolve("gaussians-pfgm-cond");
    train(data, settings, run);
    Path bundleDir = dir.resolve("gaussians-pfgm-cond-model");
    BundleExporter.export(run, bundleDir, "gaussians-pfgm-cond", "1");
    assertMostLandOnTheirRequestedGaussian(bundleDir, 160);
  }

  @Test
  void shouldExportABundleThatServesAndRefuseAFlippedByte() throws Exception {
    for (String kind : new String[] {"pfgm", "pfgmpp"}) {
      Path run = dir.resolve("export-" + kind);
      train(toy(32), tiny(kind, 3), run);
      Path bundleDir = dir.resolve("bundle-" + kind);
      ModelBundle bundle = BundleExporter.export(run, bundleDir, "toy-" + kind, "2");
      assertEquals("toy-" + kind, bundle.name());
      for (String file : new String[] {"model.json", "field.onnx", "card.md", "samples.png", "loss.png"}) {
        assertTrue(Files.exists(bundleDir.resolve(file)), file);
      }
      try (OnnxFieldModel model = OnnxFieldModel.load(bundleDir, "cpu")) {
        assertEquals("toy-" + kind + "@2", model.name());
        assertEquals(64, model.physics().dimension());
      }
      byte[] bytes = Files.readAllBytes(bundleDir.resolve("field.onnx"));
      bytes[bytes.length / 2] ^= 0x01;
      Files.write(bundleDir.resolve("field.onnx"), bytes);
      ModelException e = assertThrows(ModelException.class, () -> ModelBundle.read(bundleDir));
      assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
    }
  }
}

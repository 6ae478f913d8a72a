package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fieldline.core.Flows;
import io.fieldline.core.FieldModel;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import io.fieldline.core.data.Datasets;
import io.fieldline.core.data.IdxFixtures;
import io.fieldline.server.ModelLoader;
import io.fieldline.server.Pixels;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Arrays;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
  @TempDir
  Path dir;

  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Fieldline.execute(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(status, out.toString(), err.toString());
  }

  private Path idx() throws Exception {
    return IdxFixtures.write(dir.resolve("train.gz"), 12, 6, 6, 42, true);
  }

  @Test
  void shouldWriteOnePngPerSeedWithItsParametersAndAGrid() throws Exception {
    Path out = dir.resolve("out");
    Run r = run("generate", "--model", "exact:" + idx(), "--seeds", "0-4,9", "--solver", "heun", "--steps", "10",
        "--out", out.toString(), "--grid", out.resolve("grid.png").toString(), "--no-progress");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("generated 6 images"), r.out());
    assertTrue(r.out().contains("NFE per image: mean 19.0"), r.out());
    for (String name : new String[] {"seed-000000.png", "seed-000004.png", "seed-000009.png", "grid.png"}) {
      assertTrue(Files.exists(out.resolve(name)), name);
    }
    byte[] png = Files.readAllBytes(out.resolve("seed-000009.png"));
    String text = new String(png, StandardCharsets.ISO_8859_1);
    assertTrue(text.contains("fieldline.seed\u00009"), "seed in a tEXt chunk");
    assertTrue(text.contains("fieldline.solver\u0000heun"));
    assertTrue(text.contains("fieldline.nfe\u000019"));
    BufferedImage image = ImageIO.read(out.resolve("seed-000009.png").toFile());
    assertEquals(6, image.getWidth());
  }

  @Test
  void shouldWriteTheSameImageAsTheLibraryForTheSameSeed() throws Exception {
    Path out = dir.resolve("out");
    Path data = idx();
    assertEquals(0, run("generate", "--model", "exact:" + data, "--seeds", "3", "--indices", "2", "--solver", "rk45",
        "--out", out.toString(), "--no-progress").status());
    FieldModel model = ModelLoader.builder().build().load("exact:" + data);
    double[] x = Flows.sample(model, SamplerSettings.rk45(), 3, 2).x();
    BufferedImage image = ImageIO.read(out.resolve("seed-000003-0002.png").toFile());
    for (int i = 0; i < 36; i++) {
      assertEquals(Pixels.toByte(x[i]), image.getRaster().getSample(i % 6, i / 6, 0), "pixel " + i);
    }
  }

  @Test
  void shouldGiveByteIdenticalFilesWhateverTheBatchSize() throws Exception {
    Path data = idx();
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    assertEquals(0, run("generate", "--model", "exact:" + data, "--seeds", "0-19", "--batch", "1", "--out",
        a.toString(), "--no-progress").status());
    assertEquals(0, run("generate", "--model", "exact:" + data, "--seeds", "0-19", "--batch", "64", "--out",
        b.toString(), "--no-progress").status());
    for (int s = 0; s < 20; s++) {
      String name = String.format("seed-%06d.png", s);
      assertArrayEquals(Files.readAllBytes(a.resolve(name)), Files.readAllBytes(b.resolve(name)), name);
    }
  }

  @Test
  void shouldUseSubfoldersOfAThousandSeedsForLargeRuns() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("tiny.idx"), 2, 2, 2, 1, false);
    Path out = dir.resolve("many");
    Run r = run("generate", "--model", "exact:" + data, "--seeds", "0-1099", "--solver", "euler", "--steps", "1",
        "--out", out.toString(), "--no-progress");
    assertEquals(0, r.status(), r.err());
    assertTrue(Files.exists(out.resolve("000000/seed-000000.png")));
    assertTrue(Files.exists(out.resolve("001000/seed-001099.png")));
    try (Stream<Path> files = Files.walk(out)) {
      assertEquals(1100, files.filter(p -> p.toString().endsWith(".png")).count());
    }
  }

  @Test
  void shouldWriteToyPointsToOneCsvInSeedOrderWhateverTheEngineCount() throws Exception {
    Path one = dir.resolve("points-1");
    Path two = dir.resolve("points-2");
    for (Path out : new Path[] {one, two}) {
      Run r = run("generate", "--model", "exact:toy:gaussians", "--exact-size", "64", "--seeds", "0-19", "--solver",
          "heun", "--steps", "8", "--workers", out == one ? "1" : "2", "--out", out.toString(), "--grid",
          out.resolve("scatter.png").toString(), "--grid-count", "20", "--no-progress");
      assertEquals(0, r.status(), r.err());
    }
    List<String> lines = Files.readAllLines(one.resolve("points.csv"));
    assertEquals("seed,index,x,y,nfe", lines.get(0));
    assertEquals(21, lines.size());
    assertTrue(lines.get(1).startsWith("0,0,") && lines.get(20).startsWith("19,0,"), lines.toString());
    assertArrayEquals(Files.readAllBytes(one.resolve("points.csv")), Files.readAllBytes(two.resolve("points.csv")));
    assertTrue(Files.exists(one.resolve("scatter.png")));
    assertFalse(Files.exists(one.resolve("seed-000000.png")), "no 1x2-pixel PNGs");
  }

  @Test
  void shouldGenerateFromRealFashionMnist() throws Exception {
    assumeTrue(Files.exists(Datasets.fashionMnistTrain()),
        "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); the same scenario runs on "
            + "synthetic IDX data in shouldWriteOnePngPerSeedWithItsParametersAndAGrid");
    Path out = dir.resolve("fmnist");
    Run r = run("generate", "--model", "exact:fashion-mnist", "--exact-size", "32", "--seeds", "0-3", "--out",
        out.toString(), "--no-progress");
    assertEquals(0, r.status(), r.err());
    BufferedImage image = ImageIO.read(out.resolve("seed-000000.png").toFile());
    assertEquals(28, image.getWidth());
    // The exact field memorizes: the sample is (within a grey level or two) one of the 32 training images.
    double[][] train = Datasets.load(Datasets.fashionMnistTrain(), 32, 1).images();
    int best = Integer.MAX_VALUE;
    for (double[] t : train) {
      int worst = 0;
      for (int i = 0; i < 784; i++) {
        worst = Math.max(worst, Math.abs(Pixels.toByte(t[i]) - image.getRaster().getSample(i % 28, i / 28, 0)));
      }
      best = Math.min(best, worst);
    }
    assertTrue(best <= 3, "largest pixel difference to the nearest training image: " + best);
  }

  /** A labelled IDX pair (images and their labels-idx1 sibling): its exact field is class-conditional. */
  private Path labelledIdx() throws Exception {
    return IdxFixtures.writeLabelled(dir, "toy", 12, 6, 6, 42, 3);
  }

  @Test
  void shouldDrawTheListedClassesInSeedOrderAndNameThemInEachPng() throws Exception {
    Path data = labelledIdx();
    Path out = dir.resolve("classes");
    Run r = run("generate", "--model", "exact:" + data, "--kind", "pfgmpp", "--solver", "heun", "--steps", "8",
        "--seeds", "0-4", "--class", "2,0", "--guidance", "1.5", "--out", out.toString(), "--no-progress");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("NFE per image: mean 30.0"), "guidance 1.5: two evaluations per point: " + r.out());
    int[] expected = {2, 0, 2, 0, 2};
    FieldModel model = ModelLoader.builder().optPfgmpp(128).build().load("exact:" + data);
    for (int seed = 0; seed < 5; seed++) {
      byte[] png = Files.readAllBytes(out.resolve(String.format("seed-%06d.png", seed)));
      var text = io.fieldline.server.PngEncoder.readText(png);
      assertEquals(Integer.toString(expected[seed]), text.get("class"), "seed " + seed);
      assertEquals(Integer.toString(expected[seed]), text.get("class_name"));
      assertEquals("1.5", text.get("guidance"));
      SamplerSettings settings = SamplerSettings.fixed(Solver.HEUN, 8).withGuidance(1.5);
      var task = new io.fieldline.core.engine.SampleTask("seed-" + seed, 0, seed, settings, 0, null, expected[seed]);
      Flows.Result alone = Flows.sample(model, settings, seed, 0, expected[seed]);
      assertArrayEquals(io.fieldline.server.SampleImages.png(model, task, alone.x(), alone.nfe()), png,
          "seed " + seed + ": the library's image of that class");
    }
    Run all = run("generate", "--model", "exact:" + data, "--kind", "pfgmpp", "--solver", "euler", "--steps", "2",
        "--seeds", "0-5", "--class", "all", "--out", dir.resolve("all").toString(), "--no-progress");
    assertEquals(0, all.status(), all.err());
    assertEquals("2", io.fieldline.server.PngEncoder.readText(Files.readAllBytes(dir.resolve("all")
        .resolve("seed-000005.png"))).get("class"));
    model.close();
  }

  @Test
  void shouldRefuseBadInputWithOneLineAndStatusTwo() throws Exception {
    Path data = idx();
    Path labelled = labelledIdx();
    Path truncated = dir.resolve("cut.idx");
    byte[] full = IdxFixtures.idx(5, 4, 4, 1, false);
    Files.write(truncated, Arrays.copyOf(full, full.length - 3));
    String[][] cases = {
        {"--solver", "sideways", "--model", "exact:" + data},
        {"--seeds", "9-3", "--model", "exact:" + data},
        {"--seeds", "", "--model", "exact:" + data},
        {"--model", dir.resolve("absent").toString()},
        {"--model", "exact:" + truncated},
        {"--model", "exact:" + data, "--solver", "edm"},
        {"--model", "exact:" + data, "--solver", "euler", "--steps", "-1"},
        {"--model", "exact:" + data, "--rtol", "0"},
        {"--model", "exact:" + data, "--kind", "diffusion"},
        {"--model", "exact:" + data, "--batch", "0"},
        {"--model", "exact:" + data, "--no-such-flag"},
        {"--model", "exact:" + data, "--class", "0"},
        {"--model", "exact:" + data, "--guidance", "2"},
        {"--model", "exact:" + labelled, "--class", "7"},
        {"--model", "exact:" + labelled, "--class", "shoes"},
        {"--model", "exact:" + labelled, "--class", "0", "--guidance", "NaN"},
        {"--model", "exact:" + labelled, "--class", "0", "--guidance", "1e9"},
        {"--model", "../models/fmnist-pfgmpp", "--device", "sideways"},
        {"--model", "../models/fmnist-pfgmpp", "--device", "cuda"}, // no GPU build here: a clear one-line error
    };
    for (String[] c : cases) {
      String[] args = Stream.concat(Stream.of("generate", "--out", dir.resolve("bad").toString(), "--no-progress"),
          Arrays.stream(c)).toArray(String[]::new);
      Run r = run(args);
      assertEquals(2, r.status(), String.join(" ", c) + " -> " + r.err());
      assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
      assertTrue(r.err().startsWith("fieldline generate: "), r.err());
    }
  }

  @Test
  void shouldExplainEveryFlagInHelp() {
    Run r = run("generate", "--help");
    assertEquals(0, r.status());
    for (String flag : new String[] {"--model", "--seeds", "--indices", "--out", "--solver", "--steps", "--rtol",
        "--atol", "--batch", "--grid", "--grid-count", "--exact-size", "--kind", "--D", "--no-progress"}) {
      assertTrue(r.out().contains(flag), flag);
    }
  }
}

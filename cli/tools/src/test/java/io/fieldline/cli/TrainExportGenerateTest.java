package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.IdxFixtures;
import io.fieldline.server.ModelBundle;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole model life cycle through the command line: train, export, generate from the bundle. */
class TrainExportGenerateTest {
  @TempDir
  Path dir;

  private static int run(StringWriter out, StringWriter err, String... args) {
    return Fieldline.execute(new PrintWriter(out), new PrintWriter(err), args);
  }

  @Test
  void shouldTrainExportAndGenerateFromTheBundle() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("tiny.gz"), 32, 8, 8, 3, true);
    Path runDir = dir.resolve("run");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertEquals(0, run(out, err, "train", "--data", data.toString(), "--kind", "pfgmpp", "--D", "16", "--steps", "3",
        "--batch", "4", "--width", "8", "--checkpoint-every", "3", "--out", runDir.toString(), "--no-progress"),
        err.toString());
    assertTrue(out.toString().contains("done: 3 steps"), out.toString());
    Path bundle = dir.resolve("tiny-model");
    assertEquals(0, run(out, err, "export", runDir.toString(), "--out", bundle.toString()), err.toString());
    assertTrue(out.toString().contains("exported tiny-model@1"), out.toString());
    Path images = dir.resolve("images");
    assertEquals(0, run(out, err, "generate", "--model", bundle.toString(), "--seeds", "0-3", "--out",
        images.toString(), "--no-progress"), err.toString());
    assertTrue(Files.exists(images.resolve("seed-000003.png")));
    assertTrue(out.toString().contains("model tiny-model@1"), out.toString());
  }

  @Test
  void shouldTrainTheArchitectureTheFlagsAskForAndRefuseImpossibleOnes() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("tiny.gz"), 16, 8, 8, 3, true);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    Path runDir = dir.resolve("arch");
    assertEquals(0, run(out, err, "train", "--data", data.toString(), "--kind", "pfgmpp", "--steps", "1", "--batch",
        "2", "--width", "8", "--levels", "1,2,2,2", "--blocks", "2", "--attention", "--checkpoint-every", "1", "--out",
        runDir.toString(), "--no-progress"), err.toString());
    String json = Files.readString(runDir.resolve("run.json"));
    assertTrue(json.contains("\"attention\": true") && json.contains("\"blocks\": 2"), json);

    StringWriter badErr = new StringWriter();
    assertEquals(2, run(out, badErr, "train", "--data", data.toString(), "--kind", "pfgmpp", "--blocks", "0",
        "--out", dir.resolve("bad").toString()));
    assertTrue(badErr.toString().contains("--blocks"), badErr.toString());
    // 8x8 halves three times at most: a fifth level is refused before run.json is written.
    StringWriter deepErr = new StringWriter();
    assertEquals(2, run(out, deepErr, "train", "--data", data.toString(), "--kind", "pfgmpp", "--levels",
        "1,1,1,1,1", "--out", dir.resolve("deep").toString(), "--no-progress"));
    assertTrue(deepErr.toString().contains("cannot be halved 4 times"), deepErr.toString());
  }

  @Test
  void shouldSweepSamplersWriteThePresetAndGenerateWithIt() throws Exception {
    // 28x28 so that the shipped Fashion-MNIST feature classifier can read the samples; the test set is Debian's.
    Path data = IdxFixtures.write(dir.resolve("tiny28.gz"), 16, 28, 28, 5, true);
    Path runDir = dir.resolve("run28");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertEquals(0, run(out, err, "train", "--data", data.toString(), "--kind", "pfgmpp", "--D", "64", "--steps", "1",
        "--batch", "2", "--width", "8", "--checkpoint-every", "1", "--out", runDir.toString(), "--no-progress"),
        err.toString());
    Path bundle = dir.resolve("tiny28");
    assertEquals(0, run(out, err, "export", runDir.toString(), "--out", bundle.toString()), err.toString());
    Path rows = dir.resolve("rows.md");
    Files.delete(bundle.resolve("samples.png")); // so the sweep must draw it, whichever preset it picks
    String[] sweep = {"eval", "--model", bundle.toString(), "--sweep", "--n", "10", "--report", rows.toString(),
        "--classifier", Path.of("..", "..", "models", "fmnist-classifier").toString(), "--write-preset", "--no-progress"};
    assertEquals(0, run(out, err, sweep), err.toString());
    assertEquals(7, Files.readAllLines(rows).size(), "one row per grid setting");
    SamplerSettings preset = ModelBundle.read(bundle).defaultSampler(); // the hash still verifies
    String card = Files.readString(bundle.resolve("card.md"));
    assertTrue(card.contains("Default sampler (requests that name none get it): **" + preset.describe() + "**"), card);
    assertTrue(!card.contains("Not evaluated yet") && card.contains("## Samples"), card);
    String grid = new String(Files.readAllBytes(bundle.resolve("samples.png")), StandardCharsets.ISO_8859_1);
    assertTrue(grid.contains(preset.describe()), "the card's samples were redrawn with the preset");

    StringWriter again = new StringWriter();
    assertEquals(0, run(again, err, sweep), err.toString());
    assertEquals(7, again.toString().split("reusing ", -1).length - 1, "a second sweep reuses all rows: " + again);
    assertEquals(7, Files.readAllLines(rows).size());

    StringWriter generated = new StringWriter();
    assertEquals(0, run(generated, err, "generate", "--model", bundle.toString(), "--seeds", "0-1", "--out",
        dir.resolve("preset-images").toString(), "--no-progress"), err.toString());
    assertTrue(generated.toString().contains("sampler " + preset.describe() + ";"), generated.toString());

    // The numbers do not depend on how many engines generated the images.
    String[] one = {"eval", "--model", bundle.toString(), "--solver", "euler", "--steps", "3", "--n", "10",
        "--classifier", Path.of("..", "..", "models", "fmnist-classifier").toString(), "--no-progress", "--workers", "1"};
    StringWriter byOne = new StringWriter();
    assertEquals(0, run(byOne, err, one), err.toString());
    one[one.length - 1] = "3";
    StringWriter byThree = new StringWriter();
    assertEquals(0, run(byThree, err, one), err.toString());
    String row = byOne.toString().lines().filter(l -> l.startsWith("|")).findFirst().orElseThrow();
    assertEquals(row, byThree.toString().lines().filter(l -> l.startsWith("|")).findFirst().orElseThrow());
  }

  @Test
  void shouldRefuseAnUnknownKindAndAMissingRun() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertEquals(2, run(out, err, "train", "--kind", "vae", "--out", dir.resolve("x").toString()));
    assertTrue(err.toString().contains("unknown --kind"), err.toString());
    assertEquals(2, run(out, err, "export", dir.resolve("nothing").toString(), "--out", dir.resolve("m").toString()));
    assertTrue(err.toString().contains("not a training run directory"), err.toString());
  }
}

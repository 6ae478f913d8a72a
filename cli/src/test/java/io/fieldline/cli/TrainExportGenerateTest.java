package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
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
  void shouldRefuseAnUnknownKindAndAMissingRun() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertEquals(2, run(out, err, "train", "--kind", "vae", "--out", dir.resolve("x").toString()));
    assertTrue(err.toString().contains("unknown --kind"), err.toString());
    assertEquals(2, run(out, err, "export", dir.resolve("nothing").toString(), "--out", dir.resolve("m").toString()));
    assertTrue(err.toString().contains("not a training run directory"), err.toString());
  }
}

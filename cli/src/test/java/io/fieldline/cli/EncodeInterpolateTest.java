package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.Priors;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.IdxFixtures;
import io.fieldline.server.ModelLoader;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** encode and interpolate on a small exact field, where the flow is known to be invertible to the tolerance. */
class EncodeInterpolateTest {
  @TempDir
  Path dir;

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Fieldline.execute(new PrintWriter(out), new PrintWriter(err), args);
    return new String[] {Integer.toString(status), out.toString(), err.toString()};
  }

  @Test
  void shouldEncodeImagesToLatentsThatDecodeBackAndMatchOneAtATime() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("d.idx"), 5, 4, 4, 3, false);
    String[] r = run("encode", "--model", "exact:" + data, "--data", data.toString(), "--limit", "3", "--rtol", "1e-6",
        "--check", "--out", dir.resolve("lat").toString(), "--no-progress");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("KS statistic"), r[1]);
    double error = Double.parseDouble(r[1].replaceAll("(?s).*largest pixel error ([0-9.]+) levels.*", "$1"));
    assertTrue(error < 1, "round trip within one 8-bit level: " + r[1]);
    List<String> rows = Files.readAllLines(dir.resolve("lat").resolve("latents.csv"));
    assertEquals(4, rows.size());
    // Batched encoding gives each image the latent Flows.encode gives it alone.
    try (FieldModel model = ModelLoader.builder().build().load("exact:" + data)) {
      double[] alone = Flows.encode(model, io.fieldline.core.data.Datasets.readIdx(data, 5).images()[1], 1e-6, 1e-6)
          .x();
      String[] cells = rows.get(2).split(",");
      for (int k = 0; k < alone.length; k++) {
        assertEquals(alone[k], Double.parseDouble(cells[k + 2]), 0.0, "value " + k);
      }
    }
  }

  @Test
  void shouldDecodeAStripWhoseEndsAreTheDrawsImages() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("d.idx"), 5, 4, 4, 3, false);
    Path strip = dir.resolve("strip.png");
    String[] r = run("interpolate", "--model", "exact:" + data, "--from", "3:0", "--to", "4:1", "--frames", "5",
        "--solver", "heun", "--steps", "12", "--out", strip.toString());
    assertEquals("0", r[0], r[2]);
    BufferedImage image = ImageIO.read(strip.toFile());
    assertTrue(image.getWidth() > 4 * image.getHeight(), "five frames side by side");
    try (FieldModel model = ModelLoader.builder().build().load("exact:" + data)) {
      SamplerSettings heun = SamplerSettings.fixed(io.fieldline.core.Solver.HEUN, 12);
      double[] first = Flows.decode(model, heun, Priors.draw(model.physics(), 3, 0)).x();
      assertEquals(Flows.sample(model, heun, 3, 0).x()[0], first[0], 0.0, "an end is the draw's own image");
    }
    String[] bad = run("interpolate", "--model", "exact:" + data, "--from", "nothing.png", "--to", "1:0", "--out",
        strip.toString());
    assertEquals("2", bad[0]);
    assertFalse(bad[2].contains("\tat "), bad[2]);
    assertEquals("2", run("encode", "--model", "exact:" + data, "--data", data.toString(), "--limit", "0", "--out",
        dir.resolve("x").toString())[0]);
    assertEquals("2", run("encode", "--model", "exact:" + data, "--data", dir.resolve("missing.idx").toString(),
        "--out", dir.resolve("x").toString())[0]);
    Path other = IdxFixtures.write(dir.resolve("e.idx"), 2, 6, 6, 3, false);
    String[] shape = run("encode", "--model", "exact:" + data, "--data", other.toString(), "--out",
        dir.resolve("x").toString());
    assertEquals("2", shape[0]);
    assertTrue(shape[2].contains("1x6x6") || shape[2].contains("6x6"), shape[2]);
  }
}

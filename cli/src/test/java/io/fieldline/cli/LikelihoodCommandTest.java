package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Likelihood;
import io.fieldline.core.data.Datasets;
import io.fieldline.core.data.IdxFixtures;
import io.fieldline.server.ModelLoader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** likelihood on small exact fields: the CSV is the library's number, and bad input gets one line and status 2. */
class LikelihoodCommandTest {
  @TempDir
  Path dir;

  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Fieldline.execute(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void shouldWriteTheLibrarysLikelihoodOfEachDequantizedImageAndSummarizeIt() throws Exception {
    Path charges = IdxFixtures.write(dir.resolve("charges.idx"), 6, 4, 4, 3, false);
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 3, 4, 4, 8, false);
    Path out = dir.resolve("nll");
    Run r = run("likelihood", "--model", "exact:" + charges, "--data", data.toString(), "--n", "3", "--probes", "0",
        "--seed", "5", "--out", out.toString(), "--no-progress");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("bits/dim (95% CI"), r.out());
    assertTrue(r.out().contains("exact trace"), r.out());
    List<String> rows = Files.readAllLines(out.resolve("likelihood.csv"));
    assertEquals(4, rows.size());
    try (FieldModel model = ModelLoader.builder().build().load("exact:" + charges)) {
      double[] image = Datasets.readIdx(data, 3).images()[2];
      Likelihood.Result expected = Likelihood.builder().setModel(model).optProbes(0).build()
          .evaluate(new double[][] {Likelihood.dequantize(image, 5, 2)}, null, 5, d -> { }).get(0);
      String[] cells = rows.get(3).split(",");
      assertEquals(-expected.logDensity(), Double.parseDouble(cells[3]), 1e-3, "nll_nats of image 2");
      assertEquals(Likelihood.bitsPerDim(expected.logDensity(), 16, true), Double.parseDouble(cells[2]), 1e-5);
      assertEquals("true", cells[10]);
    }
  }

  @Test
  void shouldUseEachImagesOwnClassWhenAsked() throws Exception {
    Path labelled = IdxFixtures.writeLabelled(dir, "t", 6, 4, 4, 1, 3);
    Run own = run("likelihood", "--model", "exact:" + labelled, "--data", labelled.toString(), "--n", "3", "--probes",
        "0", "--class", "own", "--out", dir.resolve("own").toString(), "--no-progress");
    assertEquals(0, own.status(), own.err());
    List<String> rows = Files.readAllLines(dir.resolve("own").resolve("likelihood.csv"));
    assertEquals("2", rows.get(3).split(",")[1], "image 2 is of class 2");
    Run none = run("likelihood", "--model", "exact:" + labelled, "--data", labelled.toString(), "--n", "3", "--probes",
        "0", "--out", dir.resolve("none").toString(), "--no-progress");
    double withClass = Double.parseDouble(rows.get(3).split(",")[3]);
    double without = Double.parseDouble(Files.readAllLines(dir.resolve("none").resolve("likelihood.csv")).get(3)
        .split(",")[3]);
    // Each class's field holds a third of the charges, so knowing the class is worth up to ln 3 nats for exact
    // densities; the two runs share the prior's closed form, which fits the class's field a little worse at this small
    // z_max (measured: 1.25 nats), hence the slack.
    assertTrue(withClass < without && without - withClass <= Math.log(3) + 0.5, withClass + " vs " + without);
  }

  @Test
  void shouldRefuseBadInputWithOneLineAndStatusTwo() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("d.idx"), 4, 4, 4, 1, false);
    Path wide = IdxFixtures.write(dir.resolve("wide.idx"), 2, 9, 9, 1, false);
    String[][] cases = {
        {"--model", "exact:" + data, "--data", dir.resolve("missing.idx").toString()},
        {"--model", "exact:" + data, "--data", wide.toString()},
        {"--model", "exact:" + data, "--data", data.toString(), "--n", "0"},
        {"--model", "exact:" + data, "--data", data.toString(), "--repeats", "0"},
        {"--model", "exact:" + data, "--data", data.toString(), "--rtol", "NaN"},
        {"--model", "exact:" + data, "--data", data.toString(), "--class", "1"},
        {"--model", "exact:" + data, "--data", data.toString(), "--probes", "-1"},
        {"--model", "exact:" + wide, "--data", wide.toString(), "--probes", "0"},
        {"--model", "exact:toy:moons", "--data", "toy:moons", "--probes", "0"}, // off the 8-bit grid
        {"--model", "exact:" + data, "--data", data.toString(), "--max-nfe", "10"},
        {"--model", "../models/fmnist-pfgmpp-int8", "--data", "fashion-mnist-test", "--n", "1"},
        {"--model", dir.resolve("absent").toString(), "--data", data.toString()},
    };
    for (String[] c : cases) {
      String[] args = Stream.concat(Stream.of("likelihood", "--out", dir.resolve("bad").toString(), "--no-progress"),
          Arrays.stream(c)).toArray(String[]::new);
      Run r = run(args);
      assertEquals(2, r.status(), String.join(" ", c) + " -> " + r.err());
      assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
      assertTrue(r.err().startsWith("fieldline likelihood: "), r.err());
    }
    Run toy = run("likelihood", "--out", dir.resolve("bad").toString(), "--no-progress", "--model", "exact:toy:moons",
        "--data", "toy:moons", "--probes", "0");
    assertTrue(toy.err().contains("not an 8-bit pixel level") && toy.err().contains("--no-dequantize"), toy.err());
  }
}

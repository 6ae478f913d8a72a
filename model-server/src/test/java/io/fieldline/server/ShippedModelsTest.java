package io.fieldline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;
import io.fieldline.core.Priors;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The bundles the repository ships in {@code models/}: both families are there, each within the size budget, each
 * verifies its hash, loads in ONNX Runtime, evaluates a prior draw to finite numbers, and carries a measured preset
 * and a card with its quality table and sample grid.
 */
class ShippedModelsTest {
  private static final Path MODELS = Path.of("..", "models");
  private static final long MAX_BYTES = 15L * 1024 * 1024; // the budget per model

  private static List<Path> bundles() throws IOException {
    try (Stream<Path> dirs = Files.list(MODELS)) {
      return dirs.filter(d -> Files.isRegularFile(d.resolve(ModelBundle.METADATA))
          && Files.isRegularFile(d.resolve(ModelBundle.WEIGHTS)) && !d.getFileName().toString().contains("classifier"))
          .sorted().toList();
    }
  }

  @Test
  void shouldShipAPfgmAndAPfgmppFashionMnistModel() throws IOException {
    Set<String> kinds = bundles().stream().map(d -> ModelBundle.read(d).kind()).collect(Collectors.toSet());
    assertEquals(Set.of("pfgm", "pfgmpp"), kinds, "bundles: " + bundles());
  }

  @Test
  void shouldVerifyLoadAndEvaluateEveryShippedModelWithinItsBudget() throws IOException {
    for (Path dir : bundles()) {
      long bytes;
      try (Stream<Path> files = Files.list(dir)) {
        bytes = files.mapToLong(f -> f.toFile().length()).sum();
      }
      assertTrue(bytes <= MAX_BYTES, dir + " is " + bytes + " bytes");
      ModelBundle bundle = ModelBundle.read(dir); // verifies the SHA-256 of field.onnx
      SamplerSettings preset = bundle.defaultSampler();
      assertTrue(preset.solver() != Solver.RK45 && preset.plannedNfe() > 0,
          dir + ": the preset should be a measured fixed-grid setting, got " + preset.describe());
      String card = Files.readString(dir.resolve("card.md"));
      assertTrue(card.contains("## Quality") && card.contains("| sampler | n | NFE | FD |") && card.contains(preset.describe()),
          dir + ": the card has no quality table naming the preset");
      assertTrue(Files.size(dir.resolve("samples.png")) > 1000, dir + ": no sample grid");
      try (OnnxFieldModel model = OnnxFieldModel.load(dir, "cpu")) {
        Physics physics = model.physics();
        double[] x = Priors.draw(physics, 0, 0);
        double cond = physics instanceof PfgmPhysics p ? p.zMax() : ((PfgmppPhysics) physics).sigmaMax();
        double[][] out = new double[1][physics.outputDimension()];
        model.evaluate(new double[][] {x}, new double[] {cond}, out, 1);
        for (double v : out[0]) {
          assertTrue(Double.isFinite(v), dir + ": non-finite output at the prior");
        }
      }
    }
  }
}

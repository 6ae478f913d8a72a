package io.fieldline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.data.IdxFixtures;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.data.Datasets;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLoaderTest {
  @TempDir
  Path dir;

  @Test
  void shouldLoadAnExactPfgmFieldWithRecommendedConstants() throws Exception {
    Path idx = IdxFixtures.write(dir.resolve("train.gz"), 20, 5, 5, 3, true);
    FieldModel model = ModelLoader.builder().optExactSize(8).build().load("exact:" + idx);
    assertEquals("1x5x5", model.shape().toString());
    PfgmPhysics physics = (PfgmPhysics) model.physics();
    assertEquals(25, physics.dimension());
    assertTrue(physics.zMax() > 1 && physics.upperNorm() > physics.zMax(), physics.describe());
    assertTrue(model.name().contains("[8]"), model.name());
  }

  @Test
  void shouldLoadAnExactPfgmppField() throws Exception {
    Path idx = IdxFixtures.write(dir.resolve("train.idx"), 4, 3, 3, 3, false);
    FieldModel model = ModelLoader.builder().optPfgmpp(64).build().load("exact:" + idx);
    assertEquals(64, ((PfgmppPhysics) model.physics()).augmentedDimensions());
    assertTrue(model.name().endsWith("pfgm++(D=64)"), model.name());
  }

  @Test
  void shouldExplainMissingAndUnsupportedModels() throws Exception {
    ModelLoader loader = ModelLoader.builder().build();
    assertTrue(assertThrows(ModelException.class, () -> loader.load("/no/such/model")).getMessage()
        .contains("not found"));
    assertTrue(assertThrows(ModelException.class, () -> loader.load("exact:")).getMessage().contains("needs"));
    assertTrue(assertThrows(ModelException.class, () -> loader.load("exact:" + dir.resolve("missing.gz")))
        .getMessage().contains("missing.gz"));
    Files.writeString(dir.resolve("model.json"), "{}");
    assertTrue(assertThrows(ModelException.class, () -> loader.load(dir.toString())).getMessage()
        .contains("bundle"));
  }

  @Test
  void shouldBundleExactlyTheFirstFashionMnistTrainingImages() throws Exception {
    Dataset bundled;
    try (InputStream in = ModelLoader.class.getResourceAsStream(ModelLoader.BUNDLED_RESOURCE)) {
      bundled = Datasets.readIdx(in, "bundled", Integer.MAX_VALUE);
    }
    assertEquals(ModelLoader.BUNDLED_FASHION_MNIST, bundled.size());
    assertEquals("1x28x28", bundled.shape().toString());
    assumeTrue(Files.exists(Datasets.fashionMnistTrain()),
        "Debian's dataset-fashion-mnist is not installed, so the bundled copy cannot be compared with it");
    Dataset debian = Datasets.load(Datasets.fashionMnistTrain(), ModelLoader.BUNDLED_FASHION_MNIST, 1);
    assertTrue(Arrays.deepEquals(debian.images(), bundled.images()));
  }
}

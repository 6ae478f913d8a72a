package io.fieldline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.data.IdxFixtures;
import java.nio.file.Files;
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
}

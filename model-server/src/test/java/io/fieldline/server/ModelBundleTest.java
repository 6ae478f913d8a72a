package io.fieldline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelBundleTest {
  @TempDir
  Path dir;

  private ModelBundle bundle(JsonObject sampler) throws Exception {
    Files.write(dir.resolve(ModelBundle.WEIGHTS), new byte[] {1, 2, 3});
    return new ModelBundle(ModelBundle.FORMAT, "m", "1", "pfgmpp", new ImageShape(1, 4, 4),
        ModelBundle.physicsToJson(PfgmppPhysics.edmDefaults(16, 128)), new JsonObject(), new JsonObject(),
        ModelBundle.sha256(dir.resolve(ModelBundle.WEIGHTS)), sampler);
  }

  @Test
  void shouldDefaultToTheFamilySamplerWithoutAPreset() throws Exception {
    bundle(null).write(dir);
    assertEquals(SamplerSettings.fixed(Solver.HEUN, 18), ModelBundle.read(dir).defaultSampler());
  }

  @Test
  void shouldReadBackAWrittenPresetAndKeepTheWeightsHash() throws Exception {
    ModelBundle original = bundle(null);
    original.withSampler(SamplerSettings.fixed(Solver.EULER, 20)).write(dir);
    ModelBundle read = ModelBundle.read(dir); // verifies the hash
    assertEquals(SamplerSettings.fixed(Solver.EULER, 20), read.defaultSampler());
    assertEquals(original.weightsSha256(), read.weightsSha256());
    read.withSampler(SamplerSettings.rk45(1e-3)).write(dir);
    assertEquals(SamplerSettings.rk45(1e-3), ModelBundle.read(dir).defaultSampler());
  }

  @Test
  void shouldRefuseAMalformedPresetNamingIt() throws Exception {
    JsonObject bad = new JsonObject();
    bad.addProperty("solver", "euler");
    bad.addProperty("steps", 0);
    bundle(bad).write(dir);
    ModelException e = assertThrows(ModelException.class, () -> ModelBundle.read(dir));
    assertTrue(e.getMessage().contains("invalid sampler preset") && e.getMessage().contains("steps"), e.getMessage());
  }

  @Test
  void shouldReadPrecisionAndRowsPerCallAndDefaultThemForOlderBundles() throws Exception {
    ModelBundle plain = bundle(null);
    plain.write(dir);
    assertEquals("fp32", ModelBundle.read(dir).precisionOrDefault());
    assertEquals(ModelBundle.DEFAULT_ROWS_PER_CALL, ModelBundle.read(dir).rowsPerCall());
    ModelBundle derived = plain.asDerived("m-int8", "2", plain.weightsSha256(), "int8", 32, "a note");
    derived.withSampler(SamplerSettings.fixed(Solver.HEUN, 9)).write(dir);
    ModelBundle read = ModelBundle.read(dir);
    assertEquals("int8", read.precision());
    assertEquals(32, read.rowsPerCall(), "the preset rewrite keeps rows per call");
    assertEquals("m-int8@2", read.name() + "@" + read.version());
    assertEquals("a note", read.network().get("derived").getAsString());
  }

  @Test
  void shouldRefuseAnUnknownPrecisionAndRowsPerCallOutOfRange() throws Exception {
    ModelBundle plain = bundle(null);
    plain.asDerived("m", "1", plain.weightsSha256(), "int4", 16, "").write(dir);
    ModelException precision = assertThrows(ModelException.class, () -> ModelBundle.read(dir));
    assertTrue(precision.getMessage().contains("precision 'int4'"), precision.getMessage());
    plain.asDerived("m", "1", plain.weightsSha256(), "int8", 0, "").write(dir);
    ModelException rows = assertThrows(ModelException.class, () -> ModelBundle.read(dir));
    assertTrue(rows.getMessage().contains("rowsPerCall 0"), rows.getMessage());
  }
}

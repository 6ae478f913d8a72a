package io.fieldline.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SamplerSettingsTest {
  private static final Physics PFGMPP = PfgmppPhysics.edmDefaults(16, 128);
  private static final Physics PFGM = new PfgmPhysics(16, 40, 1e-3, 3000, 5, 0);

  @Test
  void shouldFillWhatARequestOmitsFromTheModelsPreset() {
    SamplerSettings preset = SamplerSettings.fixed(Solver.EULER, 20);
    assertEquals(preset, SamplerSettings.resolve(preset, PFGMPP, null, null, null, null));
    assertEquals(SamplerSettings.fixed(Solver.EULER, 7), SamplerSettings.resolve(preset, PFGMPP, null, 7, null, null));
    // Another solver than the preset's takes the family's steps, not the preset's (20 Euler steps are not 20 Heun).
    assertEquals(SamplerSettings.fixed(Solver.HEUN, 18), SamplerSettings.resolve(preset, PFGMPP, "edm", null, null,
        null));
    assertEquals(SamplerSettings.rk45(), SamplerSettings.resolve(preset, PFGMPP, "rk45", null, null, null));
  }

  @Test
  void shouldKeepAnRk45PresetsToleranceUnlessOneIsGiven() {
    SamplerSettings preset = SamplerSettings.rk45(1e-3);
    assertEquals(preset, SamplerSettings.resolve(preset, PFGM, null, null, null, null));
    assertEquals(SamplerSettings.rk45(1e-5), SamplerSettings.resolve(preset, PFGM, "rk45", null, 1e-5, null));
    assertEquals(SamplerSettings.fixed(Solver.EULER, 100), SamplerSettings.resolve(preset, PFGM, "euler", null, null,
        null));
  }

  @Test
  void shouldUseTheFamilyDefaultsWithoutAPreset() {
    assertEquals(SamplerSettings.fixed(Solver.HEUN, 18), SamplerSettings.resolve(PFGMPP, null, null, null, null));
    assertEquals(SamplerSettings.rk45(), SamplerSettings.resolve(PFGM, null, null, null, null));
    assertEquals(SamplerSettings.fixed(Solver.HEUN, 100), SamplerSettings.resolve(PFGM, "heun", null, null, null));
  }

  @Test
  void shouldRefuseEdmOnPfgmAndOutOfRangeValues() {
    assertThrows(IllegalArgumentException.class, () -> SamplerSettings.resolve(PFGM, "edm", null, null, null));
    assertThrows(IllegalArgumentException.class, () -> SamplerSettings.resolve(PFGMPP, "euler", 0, null, null));
    assertThrows(IllegalArgumentException.class, () -> SamplerSettings.resolve(PFGMPP, "rk45", null, Double.NaN,
        null));
    assertThrows(IllegalArgumentException.class, () -> SamplerSettings.resolve(PFGMPP, "leapfrog", null, null, null));
  }
}

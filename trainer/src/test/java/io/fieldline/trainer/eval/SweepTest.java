package io.fieldline.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import java.util.List;
import org.junit.jupiter.api.Test;

class SweepTest {
  private static Evaluator.Report report(SamplerSettings s, double nfe, double fd) {
    return new Evaluator.Report("m@1", s.describe(), 100, nfe, fd, 2.0, 0.5, 0.5, 1, 0.9);
  }

  private static final SamplerSettings RK45 = SamplerSettings.rk45();
  private static final SamplerSettings EULER10 = SamplerSettings.fixed(Solver.EULER, 10);
  private static final SamplerSettings EULER35 = SamplerSettings.fixed(Solver.EULER, 35);
  private static final SamplerSettings HEUN5 = SamplerSettings.fixed(Solver.HEUN, 5);
  private static final SamplerSettings HEUN18 = SamplerSettings.fixed(Solver.HEUN, 18);

  @Test
  void shouldPickTheFewestNfeWithinTenPercentOfRk45() {
    List<SamplerSettings> s = List.of(RK45, EULER10, EULER35, HEUN5, HEUN18);
    // Euler 10 is cheapest but 20% worse; Heun 5 (NFE 9) is 9% worse: it wins over Euler 35 and Heun 18.
    List<Evaluator.Report> r = List.of(report(RK45, 120, 10.0), report(EULER10, 10, 12.0), report(EULER35, 35, 10.5),
        report(HEUN5, 9, 10.9), report(HEUN18, 35, 9.8));
    assertEquals(HEUN5, Sweep.choosePreset(s, r));
  }

  @Test
  void shouldFallBackToRk45WhenNoGridSettingIsCloseEnough() {
    List<SamplerSettings> s = List.of(RK45, EULER10);
    assertEquals(RK45, Sweep.choosePreset(s, List.of(report(RK45, 120, 10.0), report(EULER10, 10, 11.5))));
    assertThrows(IllegalArgumentException.class, () -> Sweep.choosePreset(List.of(EULER10),
        List.of(report(EULER10, 10, 11.5))));
  }

  @Test
  void shouldReadItsOwnRowsBackAndSkipOtherLines() {
    Evaluator.Report r = report(HEUN18, 35, 9.8765);
    Evaluator.Report back = Evaluator.Report.parseRow(r.markdownRow());
    assertEquals(r.model(), back.model());
    assertEquals(r.sampler(), back.sampler());
    assertEquals(r.n(), back.n());
    assertEquals(9.88, back.fd(), 1e-9);
    assertEquals(0.5, back.recall(), 1e-9);
    assertNull(Evaluator.Report.parseRow(Evaluator.Report.MARKDOWN_HEADER.split("\n")[0]));
    assertNull(Evaluator.Report.parseRow(Evaluator.Report.MARKDOWN_HEADER.split("\n")[1]));
    assertNull(Evaluator.Report.parseRow("some prose"));
  }

  @Test
  void shouldReplaceOnlyTheQualitySectionOfACard() {
    String card = "# m\n\n## Samples\n\npic\n\n## Quality\n\nNot evaluated yet.\n\n## License\n\nMIT\n";
    List<SamplerSettings> s = List.of(RK45, HEUN5);
    String section = Sweep.cardSection(PfgmppPhysics.edmDefaults(16, 128), s,
        List.of(report(RK45, 120, 10.0), report(HEUN5, 9, 10.5)), HEUN5, 0.89, "fieldline eval ...", "today");
    String updated = Sweep.replaceQualitySection(card, section);
    assertTrue(updated.startsWith("# m\n\n## Samples\n\npic\n\n## Quality\n\nMeasured today"), updated);
    assertTrue(updated.endsWith("## License\n\nMIT\n"), updated);
    assertTrue(updated.contains("**heun(steps=5)**") && !updated.contains("Not evaluated"), updated);
    assertEquals(updated, Sweep.replaceQualitySection(updated, section), "replacing again changes nothing");
  }
}

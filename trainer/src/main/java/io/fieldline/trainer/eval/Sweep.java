package io.fieldline.trainer.eval;

import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.Physics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The quality sweep of a model: a fixed grid of samplers, each measured by {@link Evaluator}, and the preset chosen
 * from it: the fewest-NFE fixed-grid setting whose FD is within {@link #TOLERANCE} of RK45's (RK45 itself when none
 * is). The preset becomes the model's default sampler, so requests that name none get near-RK45 quality at the lowest
 * cost that was measured to give it.
 */
public final class Sweep {
  /** A grid setting qualifies when its FD is at most this factor times RK45's. */
  public static final double TOLERANCE = 1.10;

  private Sweep() {}

  /**
   * The grid: Euler with 10, 20 and 35 steps; Heun (EDM's second-order step for PFGM++, improved Euler for PFGM) with
   * 5, 10 and 18 steps (NFE 9, 19, 35); RK45 with rtol = atol = {@code rtol}. RK45 first, so the reference of the
   * preset is known early.
   */
  public static List<SamplerSettings> grid(Physics physics, double rtol) {
    List<SamplerSettings> out = new ArrayList<>();
    out.add(SamplerSettings.rk45(rtol));
    for (int steps : new int[] {10, 20, 35}) {
      out.add(SamplerSettings.fixed(Solver.EULER, steps));
    }
    for (int steps : new int[] {5, 10, 18}) {
      out.add(SamplerSettings.fixed(Solver.HEUN, steps));
    }
    return out;
  }

  /**
   * Picks the preset from measured rows (same model and n; {@code settings.get(i)} produced {@code reports.get(i)}).
   *
   * @throws IllegalArgumentException when the lists differ in length or no RK45 row is among them
   */
  public static SamplerSettings choosePreset(List<SamplerSettings> settings, List<Evaluator.Report> reports) {
    if (settings.size() != reports.size()) {
      throw new IllegalArgumentException(settings.size() + " settings but " + reports.size() + " reports");
    }
    SamplerSettings rk45 = null;
    double reference = Double.NaN;
    for (int i = 0; i < settings.size(); i++) {
      if (settings.get(i).solver() == Solver.RK45) {
        rk45 = settings.get(i);
        reference = reports.get(i).fd();
      }
    }
    if (rk45 == null) {
      throw new IllegalArgumentException("the preset is measured against RK45, and no RK45 row was given");
    }
    SamplerSettings best = rk45;
    double bestNfe = Double.POSITIVE_INFINITY;
    for (int i = 0; i < settings.size(); i++) {
      Evaluator.Report r = reports.get(i);
      if (settings.get(i).solver() != Solver.RK45 && r.fd() <= TOLERANCE * reference && r.nfe() < bestNfe) {
        best = settings.get(i);
        bestNfe = r.nfe();
      }
    }
    return best;
  }

  /**
   * The "## Quality" section of a model card: the table, the preset and why, and the command that measured it.
   *
   * @param classifierAccuracy the feature classifier's test accuracy (0..1), or NaN when unknown
   */
  public static String cardSection(Physics physics, List<SamplerSettings> settings, List<Evaluator.Report> reports,
      SamplerSettings preset, double classifierAccuracy, String command, String when) {
    StringBuilder b = new StringBuilder("## Quality\n\n");
    b.append("Measured ").append(when).append(" with\n\n```bash\n").append(command).append("\n```\n\n");
    b.append("FD: Frechet distance to the first n Fashion-MNIST test images in the features of Fieldline's own "
        + "classifier (models/fmnist-classifier");
    if (!Double.isNaN(classifierAccuracy)) {
      b.append(String.format(Locale.ROOT, ", %.2f%% test accuracy", 100 * classifierAccuracy));
    }
    b.append("); not FID. Floor: training vs test images through the same features. Precision/recall: k-NN (k = 3)."
        + "\n\n").append(Evaluator.Report.MARKDOWN_HEADER).append('\n');
    Evaluator.Report chosen = null;
    Evaluator.Report reference = null;
    for (int i = 0; i < reports.size(); i++) {
      b.append(reports.get(i).markdownRow()).append('\n');
      if (settings.get(i).equals(preset)) {
        chosen = reports.get(i);
      }
      if (settings.get(i).solver() == Solver.RK45) {
        reference = reports.get(i);
      }
    }
    b.append("\nDefault sampler (requests that name none get it): **").append(preset.describe()).append("**");
    if (chosen != null && reference != null) {
      b.append(String.format(Locale.ROOT, ", NFE %.0f, FD %.2f: the fewest-NFE setting whose FD is within %.0f%% of "
              + "RK45's (%.2f at NFE %.1f). FD at the default is %.2fx the floor.", chosen.nfe(), chosen.fd(),
          100 * (TOLERANCE - 1), reference.fd(), reference.nfe(), chosen.fd() / chosen.floor()));
    }
    b.append(physics instanceof PfgmPhysics ? "\n\nHeun is improved Euler on the z grid here.\n"
        : "\n\nHeun is EDM's second-order step on the EDM sigma grid.\n");
    return b.toString();
  }

  /** Replaces a card's "## Quality" section (up to the next "## " heading or the end) with {@code section}. */
  public static String replaceQualitySection(String card, String section) {
    return replaceSection(card, "Quality", section);
  }

  /**
   * Replaces a card's "## {@code heading}" section (up to the next "## " heading or the end) with {@code section},
   * or appends it.
   */
  public static String replaceSection(String card, String heading, String section) {
    int start = card.indexOf("\n## " + heading + "\n");
    if (start < 0) {
      return card.endsWith("\n") ? card + "\n" + section : card + "\n\n" + section;
    }
    int next = card.indexOf("\n## ", start + 1);
    return card.substring(0, start + 1) + section + (next < 0 ? "" : card.substring(next));
  }
}

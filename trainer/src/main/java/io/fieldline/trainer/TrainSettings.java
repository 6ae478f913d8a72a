package io.fieldline.trainer;

import java.util.Locale;

/**
 * Settings of a training run. Everything but {@code steps} and {@code checkpointEvery} is part of the run's
 * fingerprint: resuming with different settings is refused.
 *
 * @param kind {@code pfgm} (D = 1) or {@code pfgmpp}
 * @param augmentedDimensions D for PFGM++ (>= 1, or infinity); 1 for PFGM
 * @param steps total optimizer steps of the run (resuming continues up to this)
 * @param batch images per step that receive gradients (B_s)
 * @param charges PFGM only: images per step whose empirical field forms the target (B_L >= batch)
 * @param learningRate Adam's peak learning rate
 * @param warmup linear warm-up steps
 * @param emaDecay EMA decay (with the warm-up rule min(decay, (1+n)/(10+n)))
 * @param clip global gradient-norm clip (0 = off)
 * @param seed seeds initialization, data order and noise
 * @param width channels of the network's first level (the levels are multiples of it)
 * @param zExp PFGM only: the sampler's z_exp written into the bundle (0 = off)
 * @param checkpointEvery steps between checkpoints
 * @param architecture levels, blocks and attention of the network; null: the default for the data's shape
 * @param labels the class labels the network is conditioned on; null: unconditional
 */
public record TrainSettings(String kind, double augmentedDimensions, long steps, int batch, int charges,
    double learningRate, long warmup, double emaDecay, double clip, long seed, int width, double zExp,
    long checkpointEvery, Architecture architecture, Labels labels) {

  /** The default share of rows trained with "no label" (classifier-free guidance needs both fields). */
  public static final double DEFAULT_LABEL_DROPOUT = 0.1;

  /**
   * Class conditioning: the network takes a class label, trained with the data's labels; a share {@code dropout} of
   * rows per step get "no label" instead, so the one network learns the conditional and the unconditional field
   * (classifier-free guidance mixes the two at sampling time).
   *
   * @param classes the class names in index order (1..1000 of them)
   * @param dropout share of rows trained without their label, in [0, 1)
   */
  public record Labels(java.util.List<String> classes, double dropout) {
    public Labels {
      if (classes == null || classes.isEmpty() || classes.size() > 1000) {
        throw new IllegalArgumentException("a conditional run needs 1..1000 class names, got "
            + (classes == null ? 0 : classes.size()));
      }
      classes = java.util.List.copyOf(classes);
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("label dropout must be in [0, 1), got " + dropout);
      }
    }

    String fingerprint() {
      return String.format(Locale.ROOT, " classes=%d labelDropout=%s", classes.size(), dropout);
    }
  }

  /**
   * The network's shape beyond its width. Each field may be left at "default" (null levels, 0 blocks), which means
   * the default for the data's shape: for 28x28 images levels [1, 2, 2] (28, 14 and 7 pixels) with 1 residual block
   * each; for 2-D points one level with 2 blocks. Runs written before these settings existed read as all-default.
   *
   * @param levels channel multipliers of the width, one per level; each level after the first halves the resolution,
   *     so the image sides must be divisible by 2^(levels - 1); null = default
   * @param blocks residual blocks per level, 1..8; 0 = default
   * @param attention one self-attention block at the lowest resolution (its cost grows with the square of the pixels
   *     there)
   */
  public record Architecture(int[] levels, int blocks, boolean attention) {
    public Architecture {
      if (levels != null) {
        if (levels.length < 1 || levels.length > 5) {
          throw new IllegalArgumentException("levels must list 1 to 5 channel multipliers, got " + levels.length);
        }
        for (int m : levels) {
          if (m < 1 || m > 16) {
            throw new IllegalArgumentException("channel multipliers must be in 1..16, got " + m);
          }
        }
        levels = levels.clone();
      }
      if (blocks < 0 || blocks > 8) {
        throw new IllegalArgumentException("blocks must be in 1..8 (or 0 for the default), got " + blocks);
      }
    }

    /** The channel multipliers, or null for the default (a copy). */
    @Override
    public int[] levels() {
      return levels == null ? null : levels.clone();
    }

    @Override
    public String toString() {
      return "Architecture[levels=" + (levels == null ? "default" : java.util.Arrays.toString(levels)) + ", blocks="
          + (blocks == 0 ? "default" : blocks) + ", attention=" + attention + "]";
    }

    /** The settings that differ from the shape's default, as they enter the fingerprint ("" when none). */
    String fingerprint() {
      return (levels == null ? "" : " levels=" + java.util.Arrays.toString(levels))
          + (blocks == 0 ? "" : " blocks=" + blocks) + (attention ? " attention=true" : "");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Architecture a && java.util.Arrays.equals(levels, a.levels) && blocks == a.blocks
          && attention == a.attention;
    }

    @Override
    public int hashCode() {
      return 31 * (31 * java.util.Arrays.hashCode(levels) + blocks) + Boolean.hashCode(attention);
    }
  }

  /** Settings with the default architecture for the data's shape. */
  public TrainSettings(String kind, double augmentedDimensions, long steps, int batch, int charges,
      double learningRate, long warmup, double emaDecay, double clip, long seed, int width, double zExp,
      long checkpointEvery) {
    this(kind, augmentedDimensions, steps, batch, charges, learningRate, warmup, emaDecay, clip, seed, width, zExp,
        checkpointEvery, null, null);
  }

  public TrainSettings {
    if (!kind.equals("pfgm") && !kind.equals("pfgmpp")) {
      throw new IllegalArgumentException("kind must be pfgm or pfgmpp, got " + kind);
    }
    if (kind.equals("pfgm") && augmentedDimensions != 1) {
      throw new IllegalArgumentException("PFGM has D = 1; use kind pfgmpp for D = " + augmentedDimensions);
    }
    if (Double.isNaN(augmentedDimensions) || augmentedDimensions < 1) {
      throw new IllegalArgumentException("D must be >= 1, got " + augmentedDimensions);
    }
    positive("steps", steps);
    positive("batch", batch);
    if (batch > 4096) {
      throw new IllegalArgumentException("batch must be at most 4096, got " + batch);
    }
    if (charges < batch || charges > 65_536) {
      throw new IllegalArgumentException("charges must be in batch.." + 65_536 + ", got " + charges);
    }
    if (!(learningRate > 0 && learningRate < 1)) {
      throw new IllegalArgumentException("learning rate must be in (0, 1), got " + learningRate);
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
    }
    if (!(emaDecay >= 0 && emaDecay < 1)) {
      throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + emaDecay);
    }
    if (!(clip >= 0) || Double.isInfinite(clip)) {
      throw new IllegalArgumentException("clip must be >= 0, got " + clip);
    }
    positive("width", width);
    if (width % 8 != 0) {
      throw new IllegalArgumentException("width must be a multiple of 8 (GroupNorm groups), got " + width);
    }
    if (!(zExp >= 0) || Double.isInfinite(zExp)) {
      throw new IllegalArgumentException("z_exp must be >= 0, got " + zExp);
    }
    positive("checkpointEvery", checkpointEvery);
  }

  private static void positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  /** Defaults for a kind: PFGM batch 64 over 1024 charges, lr 2e-4, clip 1; PFGM++ D = 128, batch 64, lr 1e-3. */
  public static TrainSettings defaults(String kind) {
    boolean pfgm = kind.equals("pfgm");
    return new TrainSettings(kind, pfgm ? 1 : 128, 20_000, 64, pfgm ? 1024 : 64, pfgm ? 2e-4 : 1e-3, 1000, 0.999,
        pfgm ? 1.0 : 0.0, 0, 32, 0, 500);
  }

  /** The settings that must not change across a resume. */
  public String fingerprint() {
    return String.format(Locale.ROOT, "kind=%s D=%s batch=%d charges=%d lr=%s warmup=%d ema=%s clip=%s seed=%d "
            + "width=%d zExp=%s", kind, augmentedDimensions, batch, charges, learningRate, warmup, emaDecay, clip, seed,
        width, zExp) + (architecture == null ? "" : architecture.fingerprint())
        + (labels == null ? "" : labels.fingerprint());
  }

  /** True when the network is conditioned on class labels. */
  public boolean conditional() {
    return labels != null;
  }

  /** A copy with other labels (null: unconditional). */
  public TrainSettings withLabels(Labels newLabels) {
    return new TrainSettings(kind, augmentedDimensions, steps, batch, charges, learningRate, warmup, emaDecay, clip,
        seed, width, zExp, checkpointEvery, architecture, newLabels);
  }

  /** A copy with another architecture (null: the default for the data's shape). */
  public TrainSettings withArchitecture(Architecture newArchitecture) {
    return new TrainSettings(kind, augmentedDimensions, steps, batch, charges, learningRate, warmup, emaDecay, clip,
        seed, width, zExp, checkpointEvery, newArchitecture, labels);
  }

  /** A copy with another step count. */
  public TrainSettings withSteps(long newSteps) {
    return new TrainSettings(kind, augmentedDimensions, newSteps, batch, charges, learningRate, warmup, emaDecay, clip,
        seed, width, zExp, checkpointEvery, architecture, labels);
  }
}

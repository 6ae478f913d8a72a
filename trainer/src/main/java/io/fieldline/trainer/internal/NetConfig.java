package io.fieldline.trainer.internal;

import io.fieldline.core.ImageShape;

/**
 * The field network's architecture: a U-Net over {@code shape} with {@code base * mult[l]} channels at level l
 * (each level after the first halves the resolution), {@code blocks} residual blocks per level, GroupNorm with
 * {@code groups} groups, a {@code embedding}-wide noise embedding, and optionally one self-attention block after the
 * middle residual block (the lowest resolution).
 *
 * @param shape image shape
 * @param pfgm true: PFGM output (v_x, v_z), N + 1 values; false: PFGM++ denoiser with EDM preconditioning
 * @param base channels of the first level
 * @param mult channel multipliers per level
 * @param blocks residual blocks per level
 * @param groups GroupNorm groups (divides every width)
 * @param embedding embedding width
 * @param sigmaData EDM's sigma_data (input scaling for both kinds)
 * @param attention true: a self-attention block at the lowest resolution
 * @param classes number of class labels the network is conditioned on; 0: unconditional
 */
public record NetConfig(ImageShape shape, boolean pfgm, int base, int[] mult, int blocks, int groups, int embedding,
    double sigmaData, boolean attention, int classes) {
  /** Most class labels a network takes. */
  public static final int MAX_CLASSES = 1000;

  public NetConfig {
    if (classes < 0 || classes > MAX_CLASSES) {
      throw new IllegalArgumentException("classes must be in 0.." + MAX_CLASSES + ", got " + classes);
    }
    if (base < 1 || blocks < 1 || groups < 1 || embedding < 2 || mult.length < 1) {
      throw new IllegalArgumentException("invalid network configuration");
    }
    int h = shape.height();
    int w = shape.width();
    for (int l = 1; l < mult.length; l++) {
      if (h % 2 != 0 || w % 2 != 0) {
        throw new IllegalArgumentException(shape + " cannot be halved " + (mult.length - 1) + " times");
      }
      h /= 2;
      w /= 2;
    }
    for (int m : mult) {
      if (m < 1) {
        throw new IllegalArgumentException("channel multipliers must be >= 1, got " + java.util.Arrays.toString(mult));
      }
      if ((base * m) % groups != 0) {
        throw new IllegalArgumentException("width " + base * m + " is not divisible by " + groups + " groups");
      }
    }
  }

  /**
   * The default: for sides divisible by 4 (28x28: 32/64/64 channels at 28/14/7) three levels with one block each;
   * otherwise (2-D toy points, a 1x2 "image") one level with two blocks, where the 3x3 convolutions mix both
   * coordinates.
   */
  public static NetConfig small(ImageShape shape, boolean pfgm) {
    return shape.height() % 4 == 0 && shape.width() % 4 == 0
        ? new NetConfig(shape, pfgm, 32, new int[] {1, 2, 2}, 1, 8, 128, 0.5, false, 0)
        : new NetConfig(shape, pfgm, 32, new int[] {1}, 2, 8, 128, 0.5, false, 0);
  }

  /**
   * This configuration with another width, levels and blocks (0 or null keeps the current value) and with
   * {@code newAttention} (always replaced).
   */
  public NetConfig with(int newBase, int[] newMult, int newBlocks, boolean newAttention) {
    return new NetConfig(shape, pfgm, newBase > 0 ? newBase : base, newMult != null ? newMult.clone() : mult,
        newBlocks > 0 ? newBlocks : blocks, groups, embedding, sigmaData, newAttention, classes);
  }

  /** This configuration conditioned on {@code newClasses} class labels (0: unconditional). */
  public NetConfig withClasses(int newClasses) {
    return new NetConfig(shape, pfgm, base, mult, blocks, groups, embedding, sigmaData, attention, newClasses);
  }

  /** True when the network takes a class label. */
  public boolean conditional() {
    return classes > 0;
  }

  /** How the architecture reads in a model card. */
  public String describe() {
    return "U-Net, GroupNorm, SiLU, sinusoidal embedding of ln(cond)/4; widths " + base + "x"
        + java.util.Arrays.toString(mult) + ", " + blocks + " block(s) per level"
        + (attention ? ", self-attention at the lowest resolution" : "")
        + (classes > 0 ? ", class label (" + classes + " classes) embedded into the noise embedding" : "");
  }

  /** The output length per sample. */
  public int outputSize() {
    return shape.size() + (pfgm ? 1 : 0);
  }
}

package io.fieldline.trainer.internal;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The one description of the field network's U-Net body: its stages in order, with their channels and resolution,
 * derived from a {@link NetConfig} once. The DJL block's construction, its forward pass, its initialization, the ONNX
 * export and the FLOP count all walk this list, so they cannot disagree about the skip connections or the channels.
 *
 * <p>Shape: {@code conv_in}, then per level {@code blocks} residual blocks (each output kept as a skip) and, except
 * after the last level, a stride-2 convolution (kept as a skip too); a middle residual block and the optional
 * attention block; then per level, from the lowest, {@code blocks + 1} residual blocks that each first concatenate the
 * most recent skip, and, except at the top level, a nearest-neighbour 2x upsampling followed by a 3x3 convolution.
 */
final class UNetPlan {
  /** What a stage does. */
  enum Kind {
    /** Residual block of the encoder; its output is kept as a skip. */
    DOWN_BLOCK,
    /** Stride-2 3x3 convolution; its output is kept as a skip. */
    DOWNSAMPLE,
    /** The middle residual block. */
    MIDDLE,
    /** Self-attention at the lowest resolution. */
    ATTENTION,
    /** Residual block of the decoder over its input concatenated with the most recent skip. */
    UP_BLOCK,
    /** 2x nearest-neighbour upsampling, then a 3x3 convolution. */
    UPSAMPLE
  }

  /**
   * One stage.
   *
   * @param kind what it does
   * @param name its child block's name (the parameter names of checkpoints depend on it)
   * @param in input channels (for an up block, including the concatenated skip)
   * @param out output channels
   * @param height input height
   * @param width input width
   */
  record Stage(Kind kind, String name, int in, int out, int height, int width) {
    /** Whether the stage's output is kept for a decoder block. */
    boolean keepsSkip() {
      return kind == Kind.DOWN_BLOCK || kind == Kind.DOWNSAMPLE;
    }

    /** Output height. */
    int outHeight() {
      return kind == Kind.DOWNSAMPLE ? height / 2 : kind == Kind.UPSAMPLE ? height * 2 : height;
    }

    /** Output width. */
    int outWidth() {
      return kind == Kind.DOWNSAMPLE ? width / 2 : kind == Kind.UPSAMPLE ? width * 2 : width;
    }
  }

  /** What a walk does at each stage, over values of type H (tensors, graph names, shapes). */
  interface Steps<H> {
    H apply(Stage stage, H h);

    /** Concatenates the skip onto {@code h} along the channels (before an up block). */
    H concat(H h, H skip);
  }

  private final List<Stage> stages;
  private final int inChannels;
  private final int outChannels;

  UNetPlan(NetConfig config) {
    List<Stage> list = new ArrayList<>();
    int h = config.shape().height();
    int w = config.shape().width();
    int levels = config.mult().length;
    int ch = config.base() * config.mult()[0];
    inChannels = ch;
    Deque<Integer> skips = new ArrayDeque<>();
    skips.push(ch);
    for (int l = 0; l < levels; l++) {
      int width = config.base() * config.mult()[l];
      for (int b = 0; b < config.blocks(); b++) {
        list.add(new Stage(Kind.DOWN_BLOCK, "down" + l + "_" + b, ch, width, h, w));
        ch = width;
        skips.push(ch);
      }
      if (l < levels - 1) {
        list.add(new Stage(Kind.DOWNSAMPLE, "downsample" + l, ch, ch, h, w));
        h /= 2;
        w /= 2;
        skips.push(ch);
      }
    }
    list.add(new Stage(Kind.MIDDLE, "middle", ch, ch, h, w));
    if (config.attention()) {
      list.add(new Stage(Kind.ATTENTION, "attention", ch, ch, h, w));
    }
    for (int l = levels - 1; l >= 0; l--) {
      int width = config.base() * config.mult()[l];
      for (int b = 0; b <= config.blocks(); b++) {
        list.add(new Stage(Kind.UP_BLOCK, "up" + l + "_" + b, ch + skips.pop(), width, h, w));
        ch = width;
      }
      if (l > 0) {
        list.add(new Stage(Kind.UPSAMPLE, "upsample" + l, ch, ch, h, w));
        h *= 2;
        w *= 2;
      }
    }
    outChannels = ch;
    this.stages = List.copyOf(list);
  }

  List<Stage> stages() {
    return stages;
  }

  /** Channels after {@code conv_in}. */
  int inChannels() {
    return inChannels;
  }

  /** Channels of the last stage's output (into the output norm and convolution). */
  int outChannels() {
    return outChannels;
  }

  /** Runs the stages over {@code h} (the output of conv_in), keeping and concatenating skips as the plan says. */
  <H> H walk(H h, Steps<H> steps) {
    Deque<H> skips = new ArrayDeque<>();
    skips.push(h);
    for (Stage s : stages) {
      if (s.kind() == Kind.UP_BLOCK) {
        h = steps.concat(h, skips.pop());
      }
      h = steps.apply(s, h);
      if (s.keepsSkip()) {
        skips.push(h);
      }
    }
    return h;
  }
}

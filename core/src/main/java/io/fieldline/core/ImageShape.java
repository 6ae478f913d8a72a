package io.fieldline.core;

/**
 * The shape of the images a model produces, channels-first (C x H x W). Pixel values live in [-1, 1].
 *
 * @param channels 1 (grey) or 3 (RGB)
 * @param height rows
 * @param width columns
 */
public record ImageShape(int channels, int height, int width) {
  public ImageShape {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
    }
    if (height <= 0 || width <= 0 || (long) height * width * channels > 16_777_216L) {
      throw new IllegalArgumentException("image size must be positive and at most 16M values, got "
          + channels + "x" + height + "x" + width);
    }
  }

  /** N = C * H * W. */
  public int size() {
    return channels * height * width;
  }

  @Override
  public String toString() {
    return channels + "x" + height + "x" + width;
  }
}

package io.fieldline.server;

import io.fieldline.core.ImageShape;

/**
 * Converts samples (channels-first vectors in [-1, 1]) to 8-bit pixels: p = round((x + 1) * 127.5), clipped to
 * [0, 255]. Values outside [-1, 1] and NaN (mapped to 0) never throw; the ODE does not clip during integration
 * (as in the official code), only here.
 */
public final class Pixels {
  private Pixels() {}

  /** Interleaved (row-major, then channel) 8-bit pixels, as PNG stores them. */
  public static byte[] toBytes(double[] x, ImageShape shape) {
    if (x.length != shape.size()) {
      throw new IllegalArgumentException("sample has " + x.length + " values, shape " + shape + " needs "
          + shape.size());
    }
    int c = shape.channels();
    int plane = shape.height() * shape.width();
    byte[] out = new byte[x.length];
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < plane; i++) {
        out[i * c + ch] = (byte) toByte(x[ch * plane + i]);
      }
    }
    return out;
  }

  /** A decoded image: its shape and its channels-first values in [-1, 1]. */
  public record Decoded(ImageShape shape, double[] x) {}

  /**
   * Reads a PNG (grey, grey+alpha, RGB or RGBA; alpha ignored) back to a sample, x = p / 127.5 - 1: the inverse of
   * {@link #toBytes} and {@link PngEncoder#encode} up to the 8-bit rounding.
   *
   * @throws IllegalArgumentException when the bytes are not an image Java can decode
   */
  public static Decoded fromPng(byte[] png) {
    java.awt.image.BufferedImage img;
    try {
      img = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("not a readable PNG: " + e.getMessage(), e);
    }
    if (img == null) {
      throw new IllegalArgumentException("not a PNG image (" + png.length + " bytes)");
    }
    int c = img.getRaster().getNumBands() >= 3 ? 3 : 1;
    ImageShape shape = new ImageShape(c, img.getHeight(), img.getWidth());
    double[] x = new double[shape.size()];
    int plane = img.getHeight() * img.getWidth();
    for (int y = 0; y < img.getHeight(); y++) {
      for (int xx = 0; xx < img.getWidth(); xx++) {
        for (int ch = 0; ch < c; ch++) {
          x[ch * plane + y * img.getWidth() + xx] = img.getRaster().getSample(xx, y, ch) / 127.5 - 1;
        }
      }
    }
    return new Decoded(shape, x);
  }

  /** One value to 0..255. */
  public static int toByte(double v) {
    double p = Math.rint((v + 1) * 127.5);
    if (!(p > 0)) {
      return 0; // also NaN
    }
    return p >= 255 ? 255 : (int) p;
  }
}

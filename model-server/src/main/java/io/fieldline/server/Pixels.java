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

  /** One value to 0..255. */
  public static int toByte(double v) {
    double p = Math.rint((v + 1) * 127.5);
    if (!(p > 0)) {
      return 0; // also NaN
    }
    return p >= 255 ? 255 : (int) p;
  }
}

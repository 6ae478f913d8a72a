package io.fieldline.server;

import io.fieldline.core.ImageShape;
import java.util.List;
import java.util.Map;

/**
 * A grid of samples in one PNG, with a 1-pixel dark border between cells, for looking at many samples at once. Samples
 * of 2-D points (shape 1x1x2, the toy sets) are drawn as a scatter plot instead.
 */
public final class ContactSheet {
  private static final ImageShape POINT = new ImageShape(1, 1, 2);
  /** Side of a scatter plot, pixels; it shows [-LIMIT, LIMIT] on both axes. */
  private static final int SCATTER_SIZE = 512;
  private static final double LIMIT = 1.5;

  private ContactSheet() {}

  /**
   * A scatter plot of 2-D points (x right, y up) over [-1.5, 1.5]^2: grey axes, each point a 3x3 white dot, so the
   * density shows as brightness where dots overlap less and shape where they pile up. Points outside are clipped.
   */
  public static byte[] scatter(List<double[]> points, Map<String, String> text) {
    int n = SCATTER_SIZE;
    byte[] canvas = new byte[n * n];
    int axis = toPixel(0);
    for (int i = 0; i < n; i++) {
      canvas[axis * n + i] = (byte) 70;
      canvas[i * n + axis] = (byte) 70;
    }
    for (double[] p : points) {
      if (!(Math.abs(p[0]) < LIMIT && Math.abs(p[1]) < LIMIT)) {
        continue; // also skips NaN
      }
      int cx = toPixel(p[0]);
      int cy = n - 1 - toPixel(p[1]);
      for (int dy = -1; dy <= 1; dy++) {
        for (int dx = -1; dx <= 1; dx++) {
          int x = cx + dx;
          int y = cy + dy;
          if (x >= 0 && x < n && y >= 0 && y < n) {
            canvas[y * n + x] = (byte) 255;
          }
        }
      }
    }
    return PngEncoder.encode(canvas, n, n, 1, text);
  }

  private static int toPixel(double v) {
    return (int) Math.floor((v + LIMIT) / (2 * LIMIT) * (SCATTER_SIZE - 1));
  }

  /**
   * Lays out up to {@code samples.size()} images row by row, {@code columns} per row (0 picks a near-square grid),
   * each scaled up by an integer {@code zoom}. Points (shape 1x1x2) become a {@link #scatter} plot.
   */
  public static byte[] png(List<double[]> samples, ImageShape shape, int columns, int zoom, Map<String, String> text) {
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("a contact sheet needs at least one image");
    }
    if (shape.equals(POINT)) {
      return scatter(samples, text);
    }
    if (zoom < 1 || zoom > 16) {
      throw new IllegalArgumentException("zoom must be in 1..16, got " + zoom);
    }
    int cols = columns > 0 ? columns : (int) Math.ceil(Math.sqrt(samples.size()));
    int rows = (samples.size() + cols - 1) / cols;
    int c = shape.channels();
    int cellW = shape.width() * zoom;
    int cellH = shape.height() * zoom;
    int width = cols * (cellW + 1) + 1;
    int height = rows * (cellH + 1) + 1;
    byte[] canvas = new byte[width * height * c];
    java.util.Arrays.fill(canvas, (byte) 40);
    for (int k = 0; k < samples.size(); k++) {
      byte[] px = Pixels.toBytes(samples.get(k), shape);
      int x0 = 1 + (k % cols) * (cellW + 1);
      int y0 = 1 + (k / cols) * (cellH + 1);
      for (int y = 0; y < cellH; y++) {
        for (int x = 0; x < cellW; x++) {
          int src = ((y / zoom) * shape.width() + (x / zoom)) * c;
          int dst = ((y0 + y) * width + (x0 + x)) * c;
          System.arraycopy(px, src, canvas, dst, c);
        }
      }
    }
    return PngEncoder.encode(canvas, width, height, c, text);
  }
}

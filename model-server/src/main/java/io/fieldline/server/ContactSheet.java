package io.fieldline.server;

import io.fieldline.core.ImageShape;
import java.util.List;
import java.util.Map;

/**
 * A grid of samples in one PNG, with a 1-pixel dark border between cells, for looking at many samples at once.
 */
public final class ContactSheet {
  private ContactSheet() {}

  /**
   * Lays out up to {@code samples.size()} images row by row, {@code columns} per row (0 picks a near-square grid),
   * each scaled up by an integer {@code zoom}.
   */
  public static byte[] png(List<double[]> samples, ImageShape shape, int columns, int zoom, Map<String, String> text) {
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("a contact sheet needs at least one image");
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

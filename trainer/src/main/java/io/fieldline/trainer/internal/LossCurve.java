package io.fieldline.trainer.internal;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The loss log of a run ({@code loss.csv}: step, loss, gradient norm, learning rate, seconds) and its picture
 * ({@code loss.png}: loss per step on a log scale, raw and smoothed).
 */
public final class LossCurve {
  private LossCurve() {}

  /** Appends one line (writing the header first if the file is new). */
  public static void append(Path csv, long step, double loss, double gradNorm, double lr, double seconds)
      throws IOException {
    if (!Files.exists(csv)) {
      Files.writeString(csv, "step,loss,grad_norm,lr,seconds\n");
    }
    Files.writeString(csv, String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.3f%n", step, loss, gradNorm, lr, seconds),
        java.nio.file.StandardOpenOption.APPEND);
  }

  /** Draws loss.csv into a PNG. */
  public static void plot(Path csv, Path png, String title) throws IOException {
    List<double[]> points = new ArrayList<>();
    for (String line : Files.readAllLines(csv)) {
      if (line.startsWith("step") || line.isBlank()) {
        continue;
      }
      String[] f = line.split(",");
      double loss = Double.parseDouble(f[1]);
      if (Double.isFinite(loss) && loss > 0) {
        points.add(new double[] {Double.parseDouble(f[0]), loss});
      }
    }
    int w = 800;
    int h = 450;
    int left = 70;
    int right = 20;
    int top = 40;
    int bottom = 50;
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    g.drawString(title, left, 25);
    g.drawRect(left, top, w - left - right, h - top - bottom);
    if (points.size() >= 2) {
      double x0 = points.get(0)[0];
      double x1 = points.get(points.size() - 1)[0];
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (double[] p : points) {
        lo = Math.min(lo, Math.log10(p[1]));
        hi = Math.max(hi, Math.log10(p[1]));
      }
      if (hi - lo < 1e-6) {
        hi = lo + 1;
      }
      final double fx0 = x0;
      final double fx1 = Math.max(x1, x0 + 1);
      final double flo = lo;
      final double fhi = hi;
      java.util.function.DoubleUnaryOperator px = s -> left + (s - fx0) / (fx1 - fx0) * (w - left - right);
      java.util.function.DoubleUnaryOperator py = l -> top + (fhi - Math.log10(l)) / (fhi - flo) * (h - top - bottom);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      for (int t = 0; t <= 4; t++) {
        double l = Math.pow(10, flo + (fhi - flo) * t / 4);
        int y = (int) py.applyAsDouble(l);
        g.setColor(new Color(230, 230, 230));
        g.drawLine(left + 1, y, w - right - 1, y);
        g.setColor(Color.DARK_GRAY);
        g.drawString(String.format(Locale.ROOT, "%.3g", l), 5, y + 4);
      }
      g.drawString("step " + (long) x0, left, h - bottom + 18);
      String end = "step " + (long) x1;
      g.drawString(end, w - right - g.getFontMetrics().stringWidth(end), h - bottom + 18);
      g.setColor(new Color(150, 180, 230));
      drawSeries(g, points, px, py);
      // Exponential smoothing for the trend.
      List<double[]> smooth = new ArrayList<>();
      double s = Math.log(points.get(0)[1]);
      double alpha = Math.min(1, 20.0 / points.size());
      for (double[] p : points) {
        s = (1 - alpha) * s + alpha * Math.log(p[1]);
        smooth.add(new double[] {p[0], Math.exp(s)});
      }
      g.setColor(new Color(200, 40, 40));
      g.setStroke(new BasicStroke(2f));
      drawSeries(g, smooth, px, py);
    }
    g.dispose();
    ImageIO.write(image, "png", png.toFile());
  }

  private static void drawSeries(Graphics2D g, List<double[]> points, java.util.function.DoubleUnaryOperator px,
      java.util.function.DoubleUnaryOperator py) {
    for (int i = 1; i < points.size(); i++) {
      g.drawLine((int) px.applyAsDouble(points.get(i - 1)[0]), (int) py.applyAsDouble(points.get(i - 1)[1]),
          (int) px.applyAsDouble(points.get(i)[0]), (int) py.applyAsDouble(points.get(i)[1]));
    }
  }
}

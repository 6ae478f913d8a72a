package io.fieldline.cli.internal;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on a terminal stream: {@code [#####.....] 320/1000 images  41.2/s  ETA 16s}. Redraws at
 * most every 200 ms (the clock is injected), and only when enabled, so piped or test output stays clean.
 */
public final class ProgressBar {
  private static final int WIDTH = 30;
  private final PrintStream out;
  private final String unit;
  private final long total;
  private final boolean enabled;
  private final LongSupplier nanoClock;
  private final long startNanos;
  private long lastDraw = Long.MIN_VALUE;

  public ProgressBar(PrintStream out, String unit, long total, boolean enabled, LongSupplier nanoClock) {
    this.out = out;
    this.unit = unit;
    this.total = total;
    this.enabled = enabled;
    this.nanoClock = nanoClock;
    this.startNanos = nanoClock.getAsLong();
  }

  /** Shows {@code done} of the total (throttled). */
  public void update(long done) {
    update(done, "");
  }

  /** Shows {@code done} of the total with a detail such as the current loss (throttled). */
  public void update(long done, String detail) {
    if (!enabled) {
      return;
    }
    long now = nanoClock.getAsLong();
    if (done < total && lastDraw != Long.MIN_VALUE && now - lastDraw < 200_000_000L) {
      return;
    }
    lastDraw = now;
    out.print('\r' + render(done, (now - startNanos) / 1e9) + (detail.isEmpty() ? "" : "  " + detail));
    if (done >= total) {
      out.println();
    }
    out.flush();
  }

  /** The bar's text for {@code done} units after {@code seconds}. */
  public String render(long done, double seconds) {
    int filled = total == 0 ? WIDTH : (int) (WIDTH * Math.min(1.0, (double) done / total));
    double rate = seconds > 0 ? done / seconds : 0;
    String eta = rate > 0 && done < total ? formatSeconds((total - done) / rate) : "-";
    return String.format(Locale.ROOT, "[%s%s] %d/%d %s  %.1f/s  ETA %s", "#".repeat(filled), ".".repeat(WIDTH - filled),
        done, total, unit, rate, eta);
  }

  static String formatSeconds(double s) {
    long t = Math.round(s);
    return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", t / 3600, t / 60 % 60)
        : t >= 60 ? String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60) : t + "s";
  }
}

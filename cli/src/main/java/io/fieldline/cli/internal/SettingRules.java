package io.fieldline.cli.internal;

import io.fieldline.core.SamplerSettings;
import io.fieldline.streams.PipelineLimits;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The bounds and units of the command-line settings, in one table: checked at start whatever the source (flag,
 * environment, config file), and printed in docs/CONFIGURATION.md.
 *
 * <p>Keys are a flag's long name without dashes ({@code batch}), which applies to every command with that flag, or
 * {@code command.flag} ({@code train.batch}), which wins for that command.
 */
public final class SettingRules {
  /** One bound: what the value must be (e.g. {@code 1..65536 rows}) and the test. */
  public record Check(String requirement, Predicate<Object> accepts) {}

  private static final int MAX_BATCH = 65_536; // GenerationEngine's largest maxBatchSize

  private static final Map<String, Check> RULES = new TreeMap<>();

  static {
    // The engine and the sampler (serve, submit, generate, demo, eval).
    rule("batch", ints(1, MAX_BATCH, "rows (samples per batched field evaluation)"));
    rule("steps", ints(1, SamplerSettings.MAX_STEPS, "steps"));
    rule("rtol", reals(1e-12, 1, "(relative tolerance)"));
    rule("atol", reals(1e-12, 1, "(absolute tolerance)"));
    rule("exact-size", atLeast(1, "images"));
    // serve
    rule("serve.workers", atLeast(0, "engines per model version (0 = one per core on the CPU, 1 on a GPU)"));
    rule("generate.workers", atLeast(0, "engines (0 = one per core)"));
    rule("serve.max-count", atLeast(1, "images per request"));
    rule("serve.max-queued-per-client", atLeast(1, "images"));
    rule("serve.max-queued", atLeast(1, "images"));
    rule("serve.metrics-port", new Check("-1 (off) or 0..65535 (TCP port; 0 = any free port)",
        v -> ((Number) v).intValue() >= -1 && ((Number) v).intValue() <= 65_535));
    rule("serve.stats-every", positiveDuration());
    // submit
    rule("submit.count", atLeast(1, "images (the servers' --max-count bounds it too)"));
    int maxPriority = PipelineLimits.defaults().maxPriority();
    rule("submit.priority", ints(-maxPriority, maxPriority, "(larger runs first)"));
    rule("submit.deadline", positiveDuration());
    rule("submit.timeout", positiveDuration());
    // generate
    rule("generate.grid-count", ints(1, 1024, "images"));
    // demo
    rule("demo.count", ints(1, 10_000, "images"));
    // eval
    rule("eval.n", ints(10, 10_000, "images per set"));
    // train
    rule("train.limit", atLeast(1, "images"));
    rule("train.channels", new Check("1 or 3 (channels)", v -> ((Number) v).intValue() == 1
        || ((Number) v).intValue() == 3));
    rule("train.steps", atLeast(1, "optimizer steps"));
    // The trainer checks these too (TrainSettings), and what only it can: --charges >= --batch.
    rule("train.D", new Check(">= 1 (augmented dimensions)", v -> ((Number) v).doubleValue() >= 1));
    rule("train.batch", ints(1, 4096, "images per step"));
    rule("train.charges", ints(1, MAX_BATCH, "images per step, at least --batch"));
    rule("train.lr", new Check("in (0, 1) (learning rate)", v -> ((Number) v).doubleValue() > 0
        && ((Number) v).doubleValue() < 1));
    rule("train.warmup", atLeast(0, "steps"));
    rule("train.ema", new Check("in [0, 1) (EMA decay)", v -> ((Number) v).doubleValue() >= 0
        && ((Number) v).doubleValue() < 1));
    rule("train.clip", new Check(">= 0 (gradient norm; 0 = off)", v -> ((Number) v).doubleValue() >= 0
        && !Double.isInfinite(((Number) v).doubleValue())));
    rule("train.z-exp", new Check(">= 0", v -> ((Number) v).doubleValue() >= 0
        && !Double.isInfinite(((Number) v).doubleValue())));
    rule("train.width", new Check("a positive multiple of 8 (channels)", v -> ((Number) v).intValue() > 0
        && ((Number) v).intValue() % 8 == 0));
    rule("train.blocks", ints(1, 8, "residual blocks per level"));
    rule("train.checkpoint-every", atLeast(1, "steps"));
    // classifier
    rule("classifier.steps", atLeast(1, "steps of batch 128"));
  }

  private SettingRules() {}

  /** The check for a command's flag (its long name without dashes), or null when it has none. */
  public static Check check(String command, String key) {
    Check specific = RULES.get(command + "." + key);
    return specific != null ? specific : RULES.get(key);
  }

  /** Every rule key ({@code flag} or {@code command.flag}), for tests that keep the table honest. */
  public static Iterable<String> keys() {
    return RULES.keySet();
  }

  private static void rule(String key, Check check) {
    if (RULES.put(key, check) != null) {
      throw new IllegalStateException("two rules for " + key);
    }
  }

  private static Check ints(long min, long max, String unit) {
    return new Check(min + ".." + max + " " + unit, v -> {
      long x = ((Number) v).longValue();
      return x >= min && x <= max;
    });
  }

  private static Check atLeast(long min, String unit) {
    return new Check(">= " + min + " " + unit, v -> ((Number) v).longValue() >= min);
  }

  private static Check reals(double min, double max, String unit) {
    return new Check("in [" + plain(min) + ", " + plain(max) + "] " + unit, v -> {
      double x = ((Number) v).doubleValue();
      return x >= min && x <= max; // false for NaN
    });
  }

  private static Check positiveDuration() {
    return new Check("a positive duration (ISO-8601, e.g. PT30S, PT5M)",
        v -> !((Duration) v).isNegative() && !((Duration) v).isZero());
  }

  private static String plain(double x) {
    return x == Math.rint(x) && Math.abs(x) < 1e6 ? Long.toString((long) x)
        : Double.toString(x).replace(".0E", "e").replace('E', 'e');
  }
}

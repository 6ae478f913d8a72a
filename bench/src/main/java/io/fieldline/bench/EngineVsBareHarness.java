package io.fieldline.bench;

import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.engine.SampleResult;
import io.fieldline.server.OnnxFieldModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The engine against bare ONNX Runtime in the same layout, in one run: one single-threaded copy of the network per
 * core, calls of the bundle's rows per call. "Bare" is each copy's thread calling {@code evaluate} on 64 fixed rows in
 * a loop, nothing else; "engine" is {@link Flows#sampleAll} drawing images with the bundle's default sampler (priors,
 * ODE steps, batching, scheduling), counted as network rows (images x NFE). Rounds alternate bare and engine so a
 * drifting machine moves both. Prints a markdown table for docs/BENCHMARKS.md.
 *
 * <p>Usage: {@code java -cp ... io.fieldline.bench.EngineVsBareHarness [bundle] [images] [rounds]} (defaults
 * models/fmnist-pfgmpp-int8, 256, 3).
 */
public final class EngineVsBareHarness {
  private EngineVsBareHarness() {}

  public static void main(String[] args) throws Exception {
    Path bundle = Path.of(args.length > 0 ? args[0] : "models/fmnist-pfgmpp-int8");
    int images = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    int cores = Runtime.getRuntime().availableProcessors();
    List<OnnxFieldModel> copies = new ArrayList<>();
    for (int i = 0; i < cores; i++) {
      copies.add(OnnxFieldModel.load(bundle, "cpu", 1));
    }
    try {
      SamplerSettings settings = copies.get(0).defaultSampler();
      long rowsPerRound = (long) images * settings.plannedNfe();
      System.out.printf(Locale.ROOT, "%s, %s (%d NFE), %d images a round, %d engines of 1 thread, %d rows per "
          + "call%n%n", copies.get(0).name(), settings.describe(), settings.plannedNfe(), images, cores,
          copies.get(0).rowsPerCall());
      System.out.println("| round | bare ONNX Runtime rows/s | engine rows/s | engine / bare |");
      System.out.println("|---|---|---|---|");
      bare(copies, rowsPerRound / 4); // warm-up of both paths
      Flows.sampleAll(copies, settings, "warm-up", 1, images / 4, 64, done -> { });
      double sum = 0;
      for (int r = 1; r <= rounds; r++) {
        double bare = bare(copies, rowsPerRound);
        long start = System.nanoTime();
        List<SampleResult> results = Flows.sampleAll(copies, settings, "bench", r, images, 64, done -> { });
        double seconds = (System.nanoTime() - start) / 1e9;
        long rows = results.stream().mapToLong(SampleResult::nfe).sum();
        double engine = rows / seconds;
        sum += engine / bare;
        System.out.printf(Locale.ROOT, "| %d | %.0f | %.0f | %.3f |%n", r, bare, engine, engine / bare);
      }
      System.out.printf(Locale.ROOT, "%nmean engine / bare over %d rounds: %.3f%n", rounds, sum / rounds);
    } finally {
      copies.forEach(OnnxFieldModel::close);
    }
  }

  /** Rows/s of every copy evaluating 64 fixed rows in a loop on its own thread, {@code rows} in all. */
  private static double bare(List<OnnxFieldModel> copies, long rows) throws InterruptedException {
    int n = copies.get(0).shape().size();
    long perCopy = rows / copies.size();
    List<Thread> threads = new ArrayList<>();
    for (OnnxFieldModel m : copies) {
      threads.add(new Thread(() -> {
        Random random = new Random(1);
        double[][] x = new double[64][n];
        double[] cond = new double[64];
        double[][] out = new double[64][m.physics().outputDimension()];
        for (int i = 0; i < 64; i++) {
          cond[i] = Math.exp(2 * random.nextGaussian());
          for (int k = 0; k < n; k++) {
            x[i][k] = cond[i] * random.nextGaussian();
          }
        }
        for (long done = 0; done < perCopy; done += 64) {
          m.evaluate(x, cond, out, 64);
        }
      }));
    }
    long start = System.nanoTime();
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    return perCopy * copies.size() / ((System.nanoTime() - start) / 1e9);
  }
}

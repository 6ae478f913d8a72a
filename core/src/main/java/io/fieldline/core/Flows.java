package io.fieldline.core;

import io.fieldline.core.engine.EnginePool;
import io.fieldline.core.engine.GenerationEngine;
import io.fieldline.core.engine.SampleHandle;
import io.fieldline.core.engine.SampleResult;
import io.fieldline.core.engine.SampleTask;
import io.fieldline.core.internal.DormandPrinceIntegrator;
import io.fieldline.core.internal.Integrator;
import io.fieldline.core.internal.Integrators;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Single-sample ODE integrations on the caller's thread, one model evaluation at a time, and {@link #sampleAll} for
 * a whole run of images on the batching {@link GenerationEngine}, which gives bitwise the same results.
 */
public final class Flows {
  private Flows() {}

  /** An integration's end state and its number of field evaluations. */
  public record Result(double[] x, int nfe) {}

  /** Generates image (seed, index): a prior draw carried back to the data by the backward ODE. */
  public static Result sample(FieldModel model, SamplerSettings settings, long seed, long index) {
    return decode(model, settings, Priors.draw(model.physics(), seed, index));
  }

  /**
   * Generates image (seed, index) of class {@code label} ({@link FieldModel#NO_LABEL}: none) alone, with the
   * settings' guidance; NFE counts both evaluations of a guided point. Bitwise the image the engine makes.
   */
  public static Result sample(FieldModel model, SamplerSettings settings, long seed, long index, int label) {
    double[] x0 = Priors.draw(model.physics(), seed, index);
    checkLength(model, x0);
    return run(model, Integrators.backward(model.physics(), settings, x0), settings, label);
  }

  /**
   * Generates images (seed, 0), ..., (seed, count - 1) on an engine of its own (batched, its own thread) and returns
   * their results in index order, whatever their status; {@code progress} sees the number finished so far.
   */
  public static List<SampleResult> sampleAll(FieldModel model, SamplerSettings settings, String requestId, long seed,
      int count, int maxBatch, IntConsumer progress) throws InterruptedException {
    return sampleAll(List.of(model), settings, requestId, seed, count, maxBatch, progress);
  }

  /**
   * Like {@link #sampleAll(FieldModel, SamplerSettings, String, long, int, int, IntConsumer)} on one engine per model
   * copy (each its own thread), each sample on the least-loaded engine; bitwise the same results as one engine.
   */
  public static List<SampleResult> sampleAll(List<? extends FieldModel> copies, SamplerSettings settings,
      String requestId, long seed, int count, int maxBatch, IntConsumer progress) throws InterruptedException {
    return sampleAll(copies, settings, requestId, seed, i -> FieldModel.NO_LABEL, count, maxBatch, progress);
  }

  /**
   * Like {@link #sampleAll(List, SamplerSettings, String, long, int, int, IntConsumer)}, image i of class
   * {@code labelOf.applyAsInt(i)} ({@link FieldModel#NO_LABEL}: none).
   */
  public static List<SampleResult> sampleAll(List<? extends FieldModel> copies, SamplerSettings settings,
      String requestId, long seed, java.util.function.IntUnaryOperator labelOf, int count, int maxBatch,
      IntConsumer progress) throws InterruptedException {
    try (EnginePool pool = EnginePool.of(copies, maxBatch)) {
      List<SampleHandle> handles = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        handles.add(pool.submit(new SampleTask(requestId, i, seed, settings, 0, null, labelOf.applyAsInt(i))));
      }
      pool.start();
      List<SampleResult> results = new ArrayList<>(count);
      for (SampleHandle h : handles) {
        results.add(h.result().join()); // never completes exceptionally
        progress.accept(results.size());
      }
      return results;
    }
  }

  /**
   * Bulk generation with bounded memory: runs {@code tasks} on one engine per model copy (each its own thread),
   * keeping at most {@code window} of them in flight, and hands each result to {@code sink} on the calling thread as
   * it finishes (completion order, not submission order; the sink may be slow: the engines stop once the window is
   * full of finished but unhanded results). Images are bitwise the same as {@link #sampleAll}'s.
   *
   * @param window most samples submitted but not yet handed to the sink, at least 1
   * @return how many results were handed over (every task's, failed ones included)
   */
  public static long forEachResult(List<? extends FieldModel> copies, java.util.Iterator<SampleTask> tasks,
      int maxBatch, int window, java.util.function.Consumer<SampleResult> sink) throws InterruptedException {
    if (window < 1) {
      throw new IllegalArgumentException("window must be >= 1, got " + window);
    }
    java.util.concurrent.BlockingQueue<SampleResult> finished = new java.util.concurrent.LinkedBlockingQueue<>();
    long handed = 0;
    try (EnginePool pool = EnginePool.of(copies, maxBatch)) {
      pool.start();
      long outstanding = 0;
      while (true) {
        while (outstanding < window && tasks.hasNext()) {
          pool.submit(tasks.next()).result().thenAccept(finished::add);
          outstanding++;
        }
        if (outstanding == 0) {
          return handed;
        }
        SampleResult r = finished.take();
        outstanding--;
        handed++;
        sink.accept(r);
      }
    }
  }

  /** Carries a latent x0 (at z_max, or sigma_max) back to the data with the given sampler. */
  public static Result decode(FieldModel model, SamplerSettings settings, double[] x0) {
    checkLength(model, x0);
    return run(model, Integrators.backward(model.physics(), settings, x0));
  }

  /**
   * The forward ODE (data to latent): carries x from z_min up to z_max (PFGM) or sigma_min up to sigma_max
   * (PFGM++) with RK45 at the given tolerance. The inverse of {@link #decode} with RK45, up to the tolerance.
   */
  public static Result encode(FieldModel model, double[] x, double rtol, double atol) {
    return run(model, flow(model, x, true, rtol, atol));
  }

  /**
   * RK45 between the two ends of the model's ODE, with no final denoising step: up from z_min to z_max (PFGM) or
   * sigma_min to sigma_max (PFGM++), or down the other way.
   */
  private static Integrator flow(FieldModel model, double[] x, boolean up, double rtol, double atol) {
    checkLength(model, x);
    Physics physics = model.physics();
    double low = physics instanceof PfgmPhysics p ? p.zMin() : ((PfgmppPhysics) physics).sigmaMin();
    double high = physics instanceof PfgmPhysics p ? p.zMax() : ((PfgmppPhysics) physics).sigmaMax();
    return new DormandPrinceIntegrator(Integrators.dynamics(physics), x, up ? low : high, up ? high : low, rtol, atol,
        false);
  }

  /**
   * {@link #encode} of many images at once: their integrations share batched field evaluations (up to
   * {@code maxBatch} rows a call), each still integrated on its own, so each latent is bitwise the one
   * {@link #encode} gives (for a model that honours the row-independence contract).
   */
  public static List<Result> encodeAll(FieldModel model, double[][] images, double rtol, double atol, int maxBatch,
      IntConsumer progress) {
    List<Integrator> integrators = new ArrayList<>();
    for (double[] x : images) {
      integrators.add(flow(model, x, true, rtol, atol));
    }
    return runAll(model, integrators, maxBatch, progress);
  }

  /** {@link #decode} of many latents at once, batched like {@link #encodeAll}; bitwise {@link #decode}'s results. */
  public static List<Result> decodeAll(FieldModel model, SamplerSettings settings, double[][] latents, int maxBatch,
      IntConsumer progress) {
    List<Integrator> integrators = new ArrayList<>();
    for (double[] x0 : latents) {
      checkLength(model, x0);
      integrators.add(Integrators.backward(model.physics(), settings, x0));
    }
    return runAll(model, integrators, maxBatch, progress);
  }

  /**
   * The exact inverse of {@link #encodeAll}: each latent carried down the backward ODE to z_min or sigma_min by RK45,
   * with no final denoising step. Its end states are distributed with exactly the density that {@link Likelihood}
   * reports, which {@link #decodeAll} with RK45 on PFGM++ is not: that sampler ends with one more step, x -> D(x,
   * sigma_min), through the network's denoiser (the same map for an ideal denoiser only up to
   * sigma_min^2 / (sigma_min^2 + sd^2) of x's distance to the data). Use this to check a likelihood against samples.
   */
  public static List<Result> flowBackAll(FieldModel model, double[][] latents, double rtol, double atol,
      int maxBatch, IntConsumer progress) {
    List<Integrator> integrators = new ArrayList<>();
    for (double[] x0 : latents) {
      integrators.add(flow(model, x0, false, rtol, atol));
    }
    return runAll(model, integrators, maxBatch, progress);
  }

  /** Steps every integrator to its end, evaluating the pending points of up to maxBatch of them per call. */
  private static List<Result> runAll(FieldModel model, List<Integrator> integrators, int maxBatch,
      IntConsumer progress) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
    }
    int outDim = model.physics().outputDimension();
    double[][] in = new double[maxBatch][];
    double[] cond = new double[maxBatch];
    double[][] out = new double[maxBatch][outDim];
    List<Integrator> open = new ArrayList<>(integrators);
    int finished = 0;
    while (!open.isEmpty()) {
      int rows = Math.min(maxBatch, open.size());
      for (int i = 0; i < rows; i++) {
        in[i] = open.get(i).point();
        cond[i] = open.get(i).cond();
      }
      model.evaluate(in, cond, out, rows);
      for (int i = 0; i < rows; i++) {
        open.get(i).accept(out[i]);
      }
      int before = open.size();
      open.removeIf(Integrator::done);
      if (open.size() < before) {
        finished += before - open.size();
        progress.accept(finished);
      }
    }
    List<Result> results = new ArrayList<>();
    for (Integrator integrator : integrators) {
      results.add(new Result(integrator.state().clone(), integrator.nfe()));
    }
    return results;
  }

  private static void checkLength(FieldModel model, double[] x) {
    if (x.length != model.physics().dimension()) {
      throw new IllegalArgumentException("state has " + x.length + " values, the model expects "
          + model.physics().dimension());
    }
  }

  private static Result run(FieldModel model, Integrator integrator) {
    return run(model, integrator, SamplerSettings.rk45(), FieldModel.NO_LABEL);
  }

  private static Result run(FieldModel model, Integrator integrator, SamplerSettings settings, int label) {
    int rows = settings.evaluationsPerPoint(label != FieldModel.NO_LABEL);
    double[][] in = new double[rows][];
    double[] cond = new double[rows];
    int[] labels = new int[rows];
    labels[0] = settings.guidance() == 0 ? FieldModel.NO_LABEL : label;
    if (rows == 2) {
      labels[1] = FieldModel.NO_LABEL;
    }
    double[][] out = new double[rows][model.physics().outputDimension()];
    while (!integrator.done()) {
      java.util.Arrays.fill(in, integrator.point());
      java.util.Arrays.fill(cond, integrator.cond());
      model.evaluate(in, cond, labels, out, rows);
      if (rows == 2) {
        settings.guide(out[0], out[1]);
      }
      integrator.accept(out[0]);
    }
    return new Result(integrator.state().clone(), integrator.nfe() * rows);
  }
}

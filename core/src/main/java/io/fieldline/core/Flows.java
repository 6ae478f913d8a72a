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
    try (EnginePool pool = EnginePool.of(copies, maxBatch)) {
      List<SampleHandle> handles = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        handles.add(pool.submit(SampleTask.of(requestId, i, seed, settings)));
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
    checkLength(model, x);
    Physics physics = model.physics();
    double from;
    double to;
    if (physics instanceof PfgmPhysics p) {
      from = p.zMin();
      to = p.zMax();
    } else {
      PfgmppPhysics pp = (PfgmppPhysics) physics;
      from = pp.sigmaMin();
      to = pp.sigmaMax();
    }
    return run(model, new DormandPrinceIntegrator(Integrators.dynamics(physics), x, from, to, rtol, atol,
        false));
  }

  private static void checkLength(FieldModel model, double[] x) {
    if (x.length != model.physics().dimension()) {
      throw new IllegalArgumentException("state has " + x.length + " values, the model expects "
          + model.physics().dimension());
    }
  }

  private static Result run(FieldModel model, Integrator integrator) {
    double[][] in = new double[1][];
    double[] cond = new double[1];
    double[][] out = {new double[model.physics().outputDimension()]};
    while (!integrator.done()) {
      in[0] = integrator.point();
      cond[0] = integrator.cond();
      model.evaluate(in, cond, out, 1);
      integrator.accept(out[0]);
    }
    return new Result(integrator.state().clone(), integrator.nfe());
  }
}

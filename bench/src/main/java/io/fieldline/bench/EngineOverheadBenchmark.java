package io.fieldline.bench;

import io.fieldline.core.ImageShape;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import io.fieldline.core.engine.GenerationEngine;
import io.fieldline.core.engine.SampleTask;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The engine's bookkeeping cost per sample-step: one {@code runOnce} (gather 64 rows, one forward pass, hand each
 * sample its row, advance its solver) against the bare forward pass of the same near-free model on the same rows.
 * The difference is what the engine costs on top of any model.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EngineOverheadBenchmark {
  private static final int BATCH = 64;

  @Param({"euler", "heun", "rk45"})
  public String solver;

  private GenerationEngine engine;
  private SyntheticField model;
  private double[][] in;
  private double[] cond;
  private double[][] out;

  @Setup(Level.Iteration)
  public void setUp() {
    model = new SyntheticField(new ImageShape(1, 28, 28));
    engine = GenerationEngine.builder().setModel(model).optMaxBatchSize(BATCH).build();
    SamplerSettings settings = solver.equals("rk45")
        ? SamplerSettings.rk45(1e-10)
        : SamplerSettings.fixed(Solver.parse(solver), SamplerSettings.MAX_STEPS);
    // Far more samples than one batch, so finished samples are replaced (admission and prior draws are part of the
    // bookkeeping measured) and the engine never runs dry within an iteration.
    for (int i = 0; i < 100 * BATCH; i++) {
      engine.submit(SampleTask.of("bench", i, 1, settings));
    }
    engine.runOnce();
    in = new double[BATCH][784];
    cond = new double[BATCH];
    out = new double[BATCH][784];
    java.util.Arrays.fill(cond, 1.0);
  }

  @TearDown(Level.Iteration)
  public void tearDown() {
    engine.close();
  }

  /** One engine round: 64 sample-steps. Reported per sample-step. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int engineRound() {
    return engine.runOnce();
  }

  /** The bare forward pass of the same model on 64 rows. Reported per row. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public double[][] bareForward() {
    model.evaluate(in, cond, out, BATCH);
    return out;
  }
}

package io.fieldline.bench;

import io.fieldline.core.ExactField;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmPhysics;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Evaluation rate of the exact empirical field (rows per second) for Fashion-MNIST-sized data (N = 784) with n
 * charges, one row at a time and as a batch of 64 (rows in parallel on the common pool).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ExactFieldBenchmark {
  @Param({"64", "256", "1024"})
  public int charges;

  @Param({"1", "64"})
  public int rows;

  private ExactField field;
  private double[][] x;
  private double[] cond;
  private double[][] out;

  @Setup
  public void setUp() {
    Random random = new Random(1);
    double[][] data = new double[charges][784];
    for (double[] p : data) {
      for (int i = 0; i < 784; i++) {
        p[i] = 2 * random.nextDouble() - 1;
      }
    }
    field = ExactField.builder().setData(data).setPhysics(PfgmPhysics.recommended(784, 22))
        .setShape(new ImageShape(1, 28, 28)).build();
    x = new double[rows][784];
    cond = new double[rows];
    out = new double[rows][785];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < 784; i++) {
        x[r][i] = 3 * random.nextGaussian();
      }
      cond[r] = 0.01 + r;
    }
  }

  /** Rows per second = this throughput times {@code rows}. */
  @Benchmark
  public double[][] evaluate() {
    field.evaluate(x, cond, out, rows);
    return out;
  }
}

package io.fieldline.core;

import io.fieldline.core.internal.Philox4x32;

/**
 * The random stream of one image, derived only from (request seed, image index, purpose).
 *
 * <p>Derivation (stable, part of the reproducibility contract; changing it changes every image):
 * block {@code b} of the stream is Philox4x32-10 with key = the 64-bit request seed (low word first) and
 * counter = ({@code b} low 32 bits, purpose, index low 32 bits, index high 32 bits). Each block yields four
 * 32-bit words, consumed in order. {@link #nextDouble()} takes the top 53 bits of two consecutive words
 * (first word high). {@link #nextGaussian()} uses Box-Muller with {@link StrictMath}, so the values are the
 * same on every JVM and CPU. Purposes separate independent uses (the prior radius consumes a variable number
 * of draws because its Gamma sampler rejects; the direction never shares draws with it).
 *
 * <p>Because the stream is a pure function of its inputs, an image never depends on what it was batched
 * with, on restarts, or on how many instances share the work. Not thread-safe: one instance per sample.
 */
public final class SampleRandom {
  /** Purpose id of the prior radius draws. */
  public static final int PURPOSE_RADIUS = 0;
  /** Purpose id of the prior direction draws. */
  public static final int PURPOSE_DIRECTION = 1;

  private final int k0;
  private final int k1;
  private final int[] counter = new int[4];
  private final int[] block = new int[4];
  private int used = 4;
  private long blockIndex;
  private boolean haveSpareGaussian;
  private double spareGaussian;

  /**
   * Opens the stream of one purpose of one image.
   *
   * @param seed the request seed (any 64-bit value)
   * @param index the image index inside the request, {@code >= 0}
   * @param purpose a small id separating independent uses of randomness for the same image
   */
  public SampleRandom(long seed, long index, int purpose) {
    if (index < 0) {
      throw new IllegalArgumentException("image index must be >= 0, got " + index);
    }
    this.k0 = (int) seed;
    this.k1 = (int) (seed >>> 32);
    counter[1] = purpose;
    counter[2] = (int) index;
    counter[3] = (int) (index >>> 32);
  }

  /** The next 32 uniformly random bits. */
  public int nextInt() {
    if (used == 4) {
      if (blockIndex == 0x1_0000_0000L) {
        throw new IllegalStateException("random stream exhausted (2^32 blocks)");
      }
      counter[0] = (int) blockIndex++;
      Philox4x32.block(counter, k0, k1, block);
      used = 0;
    }
    return block[used++];
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  public double nextDouble() {
    long hi = nextInt() & 0xFFFFFFFFL;
    long lo = nextInt() & 0xFFFFFFFFL;
    return (((hi << 32) | lo) >>> 11) * 0x1.0p-53;
  }

  /** A standard normal draw (Box-Muller, deterministic across platforms). */
  public double nextGaussian() {
    if (haveSpareGaussian) {
      haveSpareGaussian = false;
      return spareGaussian;
    }
    double u1 = 1.0 - nextDouble(); // in (0, 1]: log is finite
    double u2 = nextDouble();
    double radius = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
    double angle = 2.0 * Math.PI * u2;
    spareGaussian = radius * StrictMath.sin(angle);
    haveSpareGaussian = true;
    return radius * StrictMath.cos(angle);
  }

  /**
   * A Gamma(shape, 1) draw: Marsaglia and Tsang's method for shape >= 1, and the boost
   * Gamma(a) = Gamma(a + 1) * U^(1/a) below 1. Accurate for shapes from 1e-3 up to 1e12.
   */
  public double nextGamma(double shape) {
    if (!(shape > 0) || Double.isInfinite(shape)) {
      throw new IllegalArgumentException("gamma shape must be positive and finite, got " + shape);
    }
    if (shape < 1) {
      double u = 1.0 - nextDouble();
      return nextGamma(shape + 1.0) * StrictMath.pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0;
    double c = 1.0 / StrictMath.sqrt(9.0 * d);
    while (true) {
      double x = nextGaussian();
      double v = 1.0 + c * x;
      if (v <= 0) {
        continue;
      }
      v = v * v * v;
      double u = 1.0 - nextDouble();
      double x2 = x * x;
      if (u < 1.0 - 0.0331 * x2 * x2) {
        return d * v;
      }
      if (StrictMath.log(u) < 0.5 * x2 + d * (1.0 - v + StrictMath.log(v))) {
        return d * v;
      }
    }
  }
}

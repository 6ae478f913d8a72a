package io.fieldline.core.internal;

/**
 * The Philox4x32-10 counter-based generator of Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"
 * (SC 2011). A pure function from a 128-bit counter and a 64-bit key to 128 random bits, so any block of a
 * stream can be computed without computing the blocks before it and without shared state.
 *
 * <p>Checked against the known-answer vectors of the Random123 distribution in {@code Philox4x32Test}.
 */
public final class Philox4x32 {
  private static final int M0 = 0xD2511F53;
  private static final int M1 = 0xCD9E8D57;
  private static final int W0 = 0x9E3779B9;
  private static final int W1 = 0xBB67AE85;
  private static final int ROUNDS = 10;

  private Philox4x32() {}

  /**
   * Computes one block.
   *
   * @param counter four 32-bit counter words (not modified)
   * @param k0 low key word
   * @param k1 high key word
   * @param out receives the four output words
   */
  public static void block(int[] counter, int k0, int k1, int[] out) {
    int c0 = counter[0];
    int c1 = counter[1];
    int c2 = counter[2];
    int c3 = counter[3];
    for (int round = 0; round < ROUNDS; round++) {
      long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
      long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
      int hi0 = (int) (p0 >>> 32);
      int lo0 = (int) p0;
      int hi1 = (int) (p1 >>> 32);
      int lo1 = (int) p1;
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
      k0 += W0;
      k1 += W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }
}

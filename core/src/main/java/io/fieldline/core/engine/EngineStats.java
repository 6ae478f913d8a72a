package io.fieldline.core.engine;

/**
 * A snapshot of engine counters since start.
 *
 * @param batches batched forward passes run
 * @param evaluations rows evaluated in them (sample-steps)
 * @param largestBatch the largest batch so far (never above maxBatchSize)
 * @param completed samples completed
 * @param expired samples expired
 * @param cancelled samples cancelled
 * @param failed samples failed
 * @param rejected samples rejected at submission
 * @param queued samples waiting to start now
 * @param active samples being integrated now
 */
public record EngineStats(long batches, long evaluations, int largestBatch, long completed, long expired,
    long cancelled, long failed, long rejected, int queued, int active) {
  /** Mean rows per forward pass. */
  public double meanBatch() {
    return batches == 0 ? 0 : (double) evaluations / batches;
  }
}

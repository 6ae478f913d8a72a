package io.fieldline.core.engine;

import java.time.Duration;

/**
 * The outcome of one sample.
 *
 * @param task the task
 * @param status how it ended
 * @param x the sample (length N, pixel units in [-1, 1] roughly) if COMPLETED, else {@code null}
 * @param nfe field evaluations spent on it (also for samples dropped midway)
 * @param queueTime from submission to the start of its integration (zero if never started)
 * @param computeTime from the start of its integration to its end (wall time in the engine, shared with
 *     batch-mates)
 * @param message why it did not complete, or {@code null}
 */
public record SampleResult(SampleTask task, SampleStatus status, double[] x, int nfe, Duration queueTime,
    Duration computeTime, String message) {}

package io.fieldline.core.engine;

import java.util.concurrent.CompletableFuture;

/** A submitted sample: its eventual result, and a way to cancel it. */
public final class SampleHandle {
  private final Sample sample;

  SampleHandle(Sample sample) {
    this.sample = sample;
  }

  /** The task. */
  public SampleTask task() {
    return sample.task;
  }

  /**
   * Completes once the sample leaves the engine, in any status (never exceptionally). Callbacks attached without an
   * executor run on the engine thread: keep them short.
   */
  public CompletableFuture<SampleResult> result() {
    return sample.future;
  }

  /** Asks to cancel: a queued sample ends at once, a running one between its steps. */
  public void cancel() {
    sample.engine.cancelSample(sample);
  }
}

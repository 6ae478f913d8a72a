package io.fieldline.core.engine;

import io.fieldline.core.internal.Integrator;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** The engine's bookkeeping of one sample. */
final class Sample {
  final GenerationEngine engine;
  final SampleTask task;
  final long sequence;
  final Instant submitted;
  final CompletableFuture<SampleResult> future = new CompletableFuture<>();
  final AtomicBoolean finished = new AtomicBoolean();
  volatile boolean cancelRequested;
  Instant admitted;
  Integrator integrator;

  Sample(GenerationEngine engine, SampleTask task, long sequence, Instant submitted) {
    this.engine = engine;
    this.task = task;
    this.sequence = sequence;
    this.submitted = submitted;
  }

  int nfe() {
    return integrator == null ? 0 : integrator.nfe() * task.evaluationsPerPoint();
  }
}

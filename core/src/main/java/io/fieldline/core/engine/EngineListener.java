package io.fieldline.core.engine;

import java.time.Duration;

/**
 * Observes the engine (for metrics). {@code onBatch} is called on the engine thread; {@code onResult} usually is too,
 * but a sample refused at submission (REJECTED, EXPIRED) or cancelled while queued ends on the thread that submitted
 * or cancelled it, so implementations must be thread-safe. They must be quick and must not call back into the engine. An exception thrown by a callback is logged and otherwise ignored: it neither stops the engine
 * nor changes the sample's result.
 */
public interface EngineListener {
  /** One batched forward pass of {@code size} rows took {@code duration}. */
  default void onBatch(int size, Duration duration) {}

  /** A sample left the engine. */
  default void onResult(SampleResult result) {}
}

package io.fieldline.core.engine;

import java.time.Duration;

/**
 * Observes the engine (for metrics). Called on the engine thread; implementations must be quick and must not call
 * back into the engine. An exception thrown by a callback is logged and otherwise ignored: it neither stops the engine
 * nor changes the sample's result.
 */
public interface EngineListener {
  /** One batched forward pass of {@code size} rows took {@code duration}. */
  default void onBatch(int size, Duration duration) {}

  /** A sample left the engine. */
  default void onResult(SampleResult result) {}
}

package io.fieldline.core.engine;

/** How a sample left the engine. */
public enum SampleStatus {
  /** Integrated to the end; {@link SampleResult#x()} holds the sample. */
  COMPLETED,
  /** Its deadline passed before it finished; dropped between steps. */
  EXPIRED,
  /** Cancelled (by request id, by its handle, or because the engine closed); dropped between steps. */
  CANCELLED,
  /** The model or the solver failed for it (message says why); other samples are unaffected. */
  FAILED,
  /** Never admitted: the engine queue was full. */
  REJECTED
}

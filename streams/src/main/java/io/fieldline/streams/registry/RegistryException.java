package io.fieldline.streams.registry;

/**
 * A schema-registry call that failed: unreachable registry, HTTP error with the registry's own error code and message,
 * unknown schema id, incompatible schema. The message names the registry URL and what was asked.
 */
public final class RegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final int errorCode;

  public RegistryException(String message, int status, int errorCode, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.errorCode = errorCode;
  }

  /** HTTP status, or -1 if the registry was not reached. */
  public int status() {
    return status;
  }

  /** The registry's error code (Confluent API: 40403 = schema not found, 409xx = incompatible), or -1. */
  public int errorCode() {
    return errorCode;
  }

  /**
   * True for an infrastructure fault that may pass: the registry unreachable or timing out, HTTP 5xx, 408 or 429. Not
   * for answers about the request itself (404 unknown id, 409 incompatible, 422 invalid schema).
   */
  public boolean isTransient() {
    return status == -1 || status >= 500 || status == 429 || status == 408;
  }

  /** True if the schema id or subject does not exist (a permanent error: retrying cannot help). */
  public boolean isNotFound() {
    return status == 404;
  }
}

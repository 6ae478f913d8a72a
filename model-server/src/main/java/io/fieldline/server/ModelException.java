package io.fieldline.server;

/** A model that cannot be loaded: missing, unreadable, corrupt or incompatible. The message says which and why. */
public final class ModelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}

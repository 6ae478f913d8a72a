package io.fieldline.core.data;

/** A data file or folder that cannot be read as images; the message names the file and what is wrong. */
public final class DatasetException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DatasetException(String message) {
    super(message);
  }

  public DatasetException(String message, Throwable cause) {
    super(message, cause);
  }
}

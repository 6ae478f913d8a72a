package io.fieldline.streams.registry;

import org.apache.kafka.common.errors.RetriableException;

/**
 * A record could not be decoded because the schema registry is unreachable or failing (a transient
 * {@link RegistryException}), not because the record is bad: the record must be retried later, never rejected. The
 * pipeline waits and retries (see {@code FieldlinePipeline.Builder#optRegistryWait}).
 */
public final class RegistryUnavailableException extends RetriableException {
  private static final long serialVersionUID = 1L;

  public RegistryUnavailableException(String message, RegistryException cause) {
    super(message, cause);
  }

  /** True if {@code e} or one of its causes is a registry outage. */
  public static boolean isCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RegistryUnavailableException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}

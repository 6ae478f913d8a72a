package io.fieldline.cli;

import java.util.List;

/**
 * More subcommands for {@code fieldline}, found with {@link java.util.ServiceLoader} on the classpath. The serving
 * runtime ({@code cli}: serve, generate, submit, cancel, schemas, encode, interpolate) carries none; the full command
 * ({@code cli/tools}) adds training, export, quantization, evaluation and the demo, which bring the trainer's PyTorch
 * natives and the local broker, so that a serving image does not carry them.
 */
public interface CommandProvider {
  /** picocli command objects to add as subcommands, in the order they should be listed. */
  List<Object> commands();
}

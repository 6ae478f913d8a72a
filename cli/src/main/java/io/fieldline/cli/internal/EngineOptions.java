package io.fieldline.cli.internal;

import picocli.CommandLine.Option;

/**
 * How images are computed locally: the engine's batch and how many engines. One definition for every command that
 * runs engines (serve, generate, eval, demo). Neither changes an image's bits.
 */
public final class EngineOptions {
  @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Most samples per batched field "
      + "evaluation (the engine's maxBatchSize); the images do not depend on it. Default: ${DEFAULT-VALUE}.")
  public int batch;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "0", description = "Engines, each with its own copy "
      + "of the model on its own thread; a sample goes to the least-loaded one and its image is the same whichever. "
      + "0 (default): one per core on the CPU, each model single-threaded; 1 on a GPU.")
  public int workers;
}

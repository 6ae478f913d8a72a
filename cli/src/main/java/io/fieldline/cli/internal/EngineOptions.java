package io.fieldline.cli.internal;

import picocli.CommandLine.Option;

/**
 * Where and how images are computed locally: the device, the engine's batch and how many engines. One definition for
 * every command that runs engines (serve, generate, eval, demo). None of them changes an image's bits on a device.
 *
 * <p>Devices: {@code cpu} (default), {@code cuda[:N]} (ONNX Runtime's CUDA execution provider), {@code tensorrt[:N]}
 * (TensorRT, with CUDA for the nodes TensorRT does not take, and {@code --trt-cache DIR} for its engine cache). The GPU
 * ones need ONNX Runtime's GPU build ({@code -Pgpu}, see docker/README.md) and an NVIDIA GPU; without them loading
 * fails with a message that says so.
 */
public final class EngineOptions {
  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu",
      description = "Where networks run: cpu, cuda[:N] or tensorrt[:N] (needs ONNX Runtime's GPU build and an NVIDIA "
          + "GPU). Exact fields always run on the CPU. Default: ${DEFAULT-VALUE}.")
  public String device;

  @Option(names = "--trt-cache", paramLabel = "DIR", description = "tensorrt devices only: TensorRT's engine cache "
      + "directory (created if missing). TensorRT saves the engines it builds for a network there and reuses them at "
      + "the next start on the same GPU instead of building them again, which takes minutes. Default: no cache.")
  public java.nio.file.Path trtCache;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Most samples per batched field "
      + "evaluation (the engine's maxBatchSize); the images do not depend on it. Default: ${DEFAULT-VALUE}.")
  public int batch;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "0", description = "Engines, each with its own copy "
      + "of the model on its own thread; a sample goes to the least-loaded one and its image is the same whichever. "
      + "0 (default): one per core on the CPU, each model single-threaded; 1 on a GPU.")
  public int workers;

  /** The loader with this device (and TensorRT cache) set. */
  public io.fieldline.server.ModelLoader.Builder applyTo(io.fieldline.server.ModelLoader.Builder loader) {
    return loader.optDevice(device).optTensorRtCache(trtCache);
  }

  /** Engines to run: --workers, else the device's default (one per core on the CPU, one on a GPU). */
  public int engines() {
    return io.fieldline.server.ModelLoader.workersFor(device, workers);
  }
}

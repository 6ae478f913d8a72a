package io.fieldline.cli.internal;

import picocli.CommandLine.Option;

/**
 * The {@code --device} flag, one definition for every command that runs networks (serve, generate, eval, demo).
 * Devices: {@code cpu} (default), {@code cuda[:N]} (ONNX Runtime's CUDA execution provider), {@code tensorrt[:N]}
 * (TensorRT, with CUDA for the nodes TensorRT does not take, and {@code --trt-cache DIR} for its engine cache). The GPU ones need ONNX Runtime's GPU build
 * ({@code -Pgpu}, see docker/README.md) and an NVIDIA GPU; without them loading fails with a message that says so.
 */
public final class DeviceOption {
  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu",
      description = "Where networks run: cpu, cuda[:N] or tensorrt[:N] (needs ONNX Runtime's GPU build and an NVIDIA "
          + "GPU). Exact fields always run on the CPU. Default: ${DEFAULT-VALUE}.")
  public String device;

  @Option(names = "--trt-cache", paramLabel = "DIR", description = "tensorrt devices only: TensorRT's engine cache "
      + "directory (created if missing). TensorRT saves the engines it builds for a network there and reuses them at "
      + "the next start on the same GPU instead of building them again, which takes minutes. Default: no cache.")
  public java.nio.file.Path trtCache;

  /** The loader with this device (and TensorRT cache) set. */
  public io.fieldline.server.ModelLoader.Builder applyTo(io.fieldline.server.ModelLoader.Builder loader) {
    return loader.optDevice(device).optTensorRtCache(trtCache);
  }
}

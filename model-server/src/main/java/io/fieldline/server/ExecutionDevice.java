package io.fieldline.server;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where ONNX Runtime runs a network, parsed from the {@code --device} flag: {@code cpu}, {@code cuda[:N]} or
 * {@code tensorrt[:N]}, and the execution providers that implies, in the order ONNX Runtime tries them for each node.
 *
 * <ul>
 *   <li>{@code cpu}: the CPU provider alone.</li>
 *   <li>{@code cuda:N}: CUDA on GPU N, CPU for what CUDA lacks.</li>
 *   <li>{@code tensorrt:N}: TensorRT on GPU N, then CUDA for the nodes TensorRT does not take, then CPU. With an engine
 *       cache directory, TensorRT saves the engines it builds (and its timing cache) there and reuses them at the next
 *       start with the same network and GPU, instead of building them again (minutes for a U-Net).</li>
 * </ul>
 *
 * <p>The GPU providers need ONNX Runtime's GPU build and an NVIDIA GPU; loading says so when either is missing.
 *
 * @param kind {@code cpu}, {@code cuda} or {@code tensorrt}
 * @param gpu the GPU index (0 on the CPU)
 * @param tensorRtCache TensorRT's engine cache directory, or null (no cache; TensorRT only)
 */
public record ExecutionDevice(String kind, int gpu, Path tensorRtCache) {
  public ExecutionDevice {
    if (!List.of("cpu", "cuda", "tensorrt").contains(kind)) {
      throw new ModelException("unknown device '" + kind + "' (expected cpu, cuda[:N] or tensorrt[:N])");
    }
    if (gpu < 0) {
      throw new ModelException("GPU index must be >= 0, got " + gpu);
    }
    if (tensorRtCache != null && !kind.equals("tensorrt")) {
      throw new ModelException("a TensorRT engine cache applies to tensorrt devices only, not " + kind);
    }
    tensorRtCache = tensorRtCache == null ? null : tensorRtCache.toAbsolutePath().normalize();
  }

  /**
   * Parses {@code cpu}, {@code cuda[:N]} or {@code tensorrt[:N]} (case-insensitive; null means cpu).
   *
   * @throws ModelException naming what is wrong
   */
  public static ExecutionDevice parse(String device, Path tensorRtCache) {
    String d = device == null ? "cpu" : device.trim().toLowerCase(Locale.ROOT);
    int colon = d.indexOf(':');
    String kind = colon < 0 ? d : d.substring(0, colon);
    int gpu = 0;
    if (colon >= 0) {
      try {
        gpu = Integer.parseInt(d.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new ModelException("bad device '" + device + "': the part after ':' must be a GPU index");
      }
      if (kind.equals("cpu")) {
        throw new ModelException("bad device '" + device + "': cpu takes no index");
      }
    }
    return new ExecutionDevice(kind, gpu, tensorRtCache);
  }

  /** Whether the network runs on a GPU. */
  public boolean isGpu() {
    return !kind.equals("cpu");
  }

  /** The execution providers in the order ONNX Runtime tries them, for logs: e.g. TensorRT(...), CUDA(0), CPU. */
  public List<String> providers() {
    return switch (kind) {
      case "cpu" -> List.of("CPU");
      case "cuda" -> List.of("CUDA(" + gpu + ")", "CPU");
      default -> List.of("TensorRT(" + gpu + (tensorRtCache == null ? ", no engine cache" : ", engine cache "
          + tensorRtCache) + ")", "CUDA(" + gpu + ")", "CPU");
    };
  }

  /**
   * TensorRT's provider options (ONNX Runtime's names): the engine and timing caches in {@link #tensorRtCache()} when
   * one is set; empty otherwise.
   */
  public Map<String, String> tensorRtOptions() {
    Map<String, String> o = new LinkedHashMap<>();
    if (tensorRtCache != null) {
      o.put("trt_engine_cache_enable", "1");
      o.put("trt_engine_cache_path", tensorRtCache.toString());
      o.put("trt_timing_cache_enable", "1");
      o.put("trt_timing_cache_path", tensorRtCache.toString());
    }
    return o;
  }

  @Override
  public String toString() {
    return kind.equals("cpu") ? "cpu" : kind + ":" + gpu;
  }
}

package io.fieldline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The --device flag and the execution providers it implies, checked without a GPU. */
class ExecutionDeviceTest {
  @TempDir
  Path dir;

  @Test
  void shouldPutTensorRtFirstWithItsEngineCacheAndCudaAsItsFallback() {
    ExecutionDevice d = ExecutionDevice.parse("TensorRT:1", dir.resolve("trt"));
    assertEquals("tensorrt", d.kind());
    assertEquals(1, d.gpu());
    assertEquals(List.of("TensorRT(1, engine cache " + dir.resolve("trt").toAbsolutePath() + ")", "CUDA(1)", "CPU"),
        d.providers());
    assertEquals(Map.of("trt_engine_cache_enable", "1", "trt_engine_cache_path", dir.resolve("trt").toString(),
        "trt_timing_cache_enable", "1", "trt_timing_cache_path", dir.resolve("trt").toString()), d.tensorRtOptions());
    assertEquals(List.of("TensorRT(0, no engine cache)", "CUDA(0)", "CPU"),
        ExecutionDevice.parse("tensorrt", null).providers());
    assertTrue(ExecutionDevice.parse("tensorrt", null).tensorRtOptions().isEmpty());
  }

  @Test
  void shouldParseCpuAndCuda() {
    assertEquals(List.of("CPU"), ExecutionDevice.parse(null, null).providers());
    assertEquals(List.of("CPU"), ExecutionDevice.parse("cpu", null).providers());
    assertEquals(List.of("CUDA(2)", "CPU"), ExecutionDevice.parse("cuda:2", null).providers());
    assertEquals("cuda:2", ExecutionDevice.parse("cuda:2", null).toString());
  }

  @Test
  void shouldRefuseBadDevicesAndACacheForAnotherDeviceNamingTheProblem() {
    assertTrue(assertThrows(ModelException.class, () -> ExecutionDevice.parse("sideways", null)).getMessage()
        .contains("unknown device 'sideways'"));
    assertTrue(assertThrows(ModelException.class, () -> ExecutionDevice.parse("cuda:x", null)).getMessage()
        .contains("GPU index"));
    assertThrows(ModelException.class, () -> ExecutionDevice.parse("cuda:-1", null));
    assertThrows(ModelException.class, () -> ExecutionDevice.parse("cpu:0", null));
    assertTrue(assertThrows(ModelException.class, () -> ExecutionDevice.parse("cuda", dir)).getMessage()
        .contains("tensorrt devices only"));
    assertTrue(assertThrows(ModelException.class, () -> ModelLoader.builder().optTensorRtCache(dir).build())
        .getMessage().contains("tensorrt devices only"), "the loader checks it before any load");
  }

  @Test
  void shouldSayWhatIsMissingWhenTensorRtCannotLoadOnThisBuild() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(ai.onnxruntime.OrtEnvironment.getAvailableProviders()
        .contains(ai.onnxruntime.OrtProvider.TENSOR_RT), "this ONNX Runtime build has TensorRT: loading may succeed");
    Path bundle = Path.of("..", "models", "fmnist-pfgmpp-int8");
    ModelException e = assertThrows(ModelException.class, () -> OnnxFieldModel.load(bundle,
        ExecutionDevice.parse("tensorrt:0", dir.resolve("cache")), 1));
    assertTrue(e.getMessage().contains("on tensorrt:0") && e.getMessage().contains("GPU build"), e.getMessage());
  }
}

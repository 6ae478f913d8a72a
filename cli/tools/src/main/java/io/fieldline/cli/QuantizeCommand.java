package io.fieldline.cli;

import io.fieldline.trainer.BundleQuantizer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline quantize}: a float32 bundle to an int8 one. */
@Command(name = "quantize", sortOptions = false,
    description = {"Makes an int8 model bundle from a float32 one: static quantization in QDQ form written by "
        + "Fieldline's own ONNX code (int8 weights, one scale per output channel; uint8 activations calibrated on "
        + "network inputs recorded along real sampling trajectories of the bundle's default sampler; int32 biases), "
        + "which ONNX Runtime runs with its int8 kernels (about 2x the float rows/s on AVX-512 VNNI CPUs).",
        "Each Conv/Gemm is quantized alone first; one whose output error alone exceeds --max-layer-error stays "
            + "float. The card lists every layer's decision, the whole network's error and the rows per call timed "
            + "for it (written into model.json, since it fixes an image's bits).",
        "Then measure it at the source's sampler: fieldline eval --model MODEL_DIR --solver S --steps K --n 2000."},
    footer = {"", "Example:",
        "  fieldline quantize models/fmnist-pfgmpp --out models/fmnist-pfgmpp-int8"})
final class QuantizeCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  BundleTarget target;

  @Parameters(index = "0", paramLabel = "BUNDLE", description = "The float32 model bundle to quantize.")
  Path source;

  @Option(names = "--trajectories", paramLabel = "N", defaultValue = "" + BundleQuantizer.DEFAULT_TRAJECTORIES,
      description = "Images whose network inputs (every step of the default sampler) calibrate the activation "
          + "ranges. Default: ${DEFAULT-VALUE}.")
  int trajectories;

  @Option(names = "--max-layer-error", paramLabel = "E", defaultValue = "" + BundleQuantizer.DEFAULT_MAX_LAYER_ERROR,
      description = "A layer stays float if quantizing it alone moves the network's output by more than this "
          + "(relative L2 error on recorded rows held out of the calibration). Default: ${DEFAULT-VALUE}.")
  double maxLayerError;

  @Option(names = "--rows-per-call", paramLabel = "N", description = "Rows per ONNX Runtime call to write into "
      + "model.json (it fixes an image's bits). Default: 16, unless another of 8, 16, 32, 64 times over 10%% faster "
      + "on one thread here.")
  Integer rowsPerCall;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getOut();
    BundleQuantizer.Report report;
    try {
      BundleQuantizer.Builder quantizer = BundleQuantizer.builder();
      if (rowsPerCall != null) {
        quantizer.optRowsPerCall(rowsPerCall);
      }
      report = quantizer.setSource(source).setOut(target.out).optName(target.modelName())
          .optVersion(target.version).optTrajectories(trajectories).optMaxLayerError(maxLayerError)
          .optLog(line -> {
            out.println(line);
            out.flush();
          }).build().quantize();
    } catch (IllegalArgumentException e) {
      throw new Fieldline.UsageException(e.getMessage());
    }
    out.printf(Locale.ROOT, "wrote %s@%s (int8, %d rows per call, output error %.4f) to %s%n", report.bundle().name(),
        report.bundle().version(), report.rowsPerCall(), report.error(), target.out);
    out.flush();
    return 0;
  }
}

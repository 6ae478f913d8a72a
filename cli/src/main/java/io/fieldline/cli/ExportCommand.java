package io.fieldline.cli;

import io.fieldline.server.ModelBundle;
import io.fieldline.trainer.BundleExporter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline export}: a run directory to a model bundle. */
@Command(name = "export", sortOptions = false,
    description = {"Exports the EMA weights of a training run's last checkpoint as a model bundle: field.onnx "
        + "(written by Fieldline's own ONNX exporter, opset 17), model.json (physics, shape, SHA-256), card.md, "
        + "loss.png and samples.png (64 samples through ONNX Runtime and the engine)."})
final class ExportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  // Not mixinStandardHelpOptions: its --version would clash with the model version below, and picocli then drops
  // both of its options, --help included.
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Parameters(index = "0", paramLabel = "RUN_DIR", description = "A training run directory (fieldline train --out).")
  Path run;

  @Option(names = {"-o", "--out"}, paramLabel = "MODEL_DIR", required = true, description = "The bundle directory.")
  Path out;

  @Option(names = "--name", paramLabel = "NAME", description = "Model name. Default: the bundle directory's name.")
  String name;

  @Option(names = "--version", paramLabel = "V", defaultValue = "1", description = "Model version. Default: 1.")
  String version;

  @Override
  public Integer call() throws Exception {
    String modelName = name != null ? name : out.toAbsolutePath().getFileName().toString();
    ModelBundle bundle = BundleExporter.export(run, out, modelName, version);
    spec.commandLine().getOut().printf("exported %s@%s (%s, %s) to %s%n", bundle.name(), bundle.version(),
        bundle.kind(), bundle.physics().describe(), out);
    spec.commandLine().getOut().flush();
    return 0;
  }
}

package io.fieldline.cli;

import io.fieldline.server.ModelBundle;
import io.fieldline.trainer.BundleExporter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

  @Mixin
  BundleTarget target;

  @Parameters(index = "0", paramLabel = "RUN_DIR", description = "A training run directory (fieldline train --out).")
  Path run;

  @Override
  public Integer call() throws Exception {
    ModelBundle bundle = BundleExporter.export(run, target.out, target.modelName(), target.version);
    spec.commandLine().getOut().printf("exported %s@%s (%s, %s) to %s%n", bundle.name(), bundle.version(),
        bundle.kind(), bundle.physics().describe(), target.out);
    spec.commandLine().getOut().flush();
    return 0;
  }
}

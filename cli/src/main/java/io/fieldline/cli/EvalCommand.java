package io.fieldline.cli;

import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.FieldModel;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.data.Datasets;
import io.fieldline.server.ModelLoader;
import io.fieldline.trainer.eval.Classifier;
import io.fieldline.trainer.eval.Evaluator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline eval}: sample quality against the Fashion-MNIST test set. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Generates --n images (seed 0, indices 0..n-1, quantized to 8 bits) and measures them against the "
        + "first --n Fashion-MNIST test images in the feature space of Fieldline's classifier: Frechet distance (FD), "
        + "the floor (first --n training images vs the same test images), and k-NN precision/recall (k = 3).",
        "This is not FID: the features come from a small Fashion-MNIST CNN (see `fieldline classifier`), so values "
            + "are comparable only with each other."})
final class EvalCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = {"-m", "--model"}, paramLabel = "SPEC", required = true,
      description = "A model bundle directory or exact:<data> (as for generate).")
  String model;

  @Option(names = "--solver", paramLabel = "NAME", description = "euler, heun, rk45 or edm. Default: the model "
      + "family's default (rk45 for PFGM, edm for PFGM++).")
  String solver;

  @Option(names = "--steps", paramLabel = "N", description = "Grid steps of euler/heun/edm. Default: 100 (PFGM), 18 "
      + "(PFGM++).")
  Integer steps;

  @Option(names = "--rtol", paramLabel = "R", defaultValue = "1e-4", description = "RK45 tolerance (rtol = atol). "
      + "Default: ${DEFAULT-VALUE}.")
  double rtol;

  @Option(names = "--n", paramLabel = "N", defaultValue = "2000", description = "Images per set, 10..10000. "
      + "Default: ${DEFAULT-VALUE}.")
  int n;

  @Option(names = "--classifier", paramLabel = "DIR", defaultValue = "models/fmnist-classifier",
      description = "The feature classifier. Default: ${DEFAULT-VALUE}.")
  Path classifier;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Engine batch size. "
      + "Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(names = "--report", paramLabel = "FILE", description = "Append a markdown table row to FILE.")
  Path report;

  @Option(names = "--no-progress", description = "Do not draw the progress bar.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    try (FieldModel field = ModelLoader.builder().build().load(model);
         Classifier features = Classifier.load(classifier)) {
      SamplerSettings settings = SamplerSettings.resolve(field.physics(), solver, steps, rtol, rtol);
      Dataset train = Datasets.load(Datasets.fashionMnistTrain(), n, 1);
      Dataset test = Datasets.load(Datasets.fashionMnistTest(), n, 1);
      ProgressBar bar = new ProgressBar(System.err, "images", n, !noProgress, System::nanoTime);
      Evaluator.Report r = Evaluator.evaluate(field, settings, n, features, train, test, batch, bar::update);
      spec.commandLine().getOut().println(r);
      spec.commandLine().getOut().println(r.markdownRow());
      spec.commandLine().getOut().flush();
      if (report != null) {
        Files.writeString(report, r.markdownRow() + System.lineSeparator(), StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      }
    }
    return 0;
  }
}

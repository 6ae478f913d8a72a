package io.fieldline.cli;

import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.data.Datasets;
import io.fieldline.trainer.eval.Classifier;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline classifier}: trains the feature classifier of the quality metric. */
@Command(name = "classifier", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Trains the small Fashion-MNIST CNN whose 128 penultimate features are the space of "
        + "`fieldline eval` (Frechet distance, precision/recall), exports it to ONNX and reports its test accuracy."})
final class ClassifierCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "models/fmnist-classifier",
      description = "Where classifier.onnx and classifier.json go. Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(names = "--steps", paramLabel = "N", defaultValue = "1500",
      description = "Training steps of batch 128 (1500 is about 3 epochs). Default: ${DEFAULT-VALUE}.")
  long steps;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--no-progress", description = "Do not draw the progress bar.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    Dataset train = Datasets.load(Datasets.fashionMnistTrain(), 60_000, 1);
    int[] labels = Datasets.readLabels(Datasets.fashionMnistTrainLabels(), 60_000);
    Dataset test = Datasets.load(Datasets.fashionMnistTest(), 10_000, 1);
    int[] testLabels = Datasets.readLabels(Datasets.fashionMnistTestLabels(), 10_000);
    ProgressBar bar = new ProgressBar(System.err, "steps", steps, !noProgress, System::nanoTime);
    Classifier.Info info = Classifier.train(train, labels, test, testLabels, 10, steps, seed, out, bar::update);
    spec.commandLine().getOut().printf(Locale.ROOT, "classifier written to %s: test accuracy %.4f on %d images%n", out,
        info.testAccuracy(), test.size());
    spec.commandLine().getOut().flush();
    return 0;
  }
}

package io.fieldline.cli;

import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.FieldModel;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.data.Datasets;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.ModelLoader;
import io.fieldline.trainer.BundleExporter;
import io.fieldline.trainer.eval.Classifier;
import io.fieldline.trainer.eval.Evaluator;
import io.fieldline.trainer.eval.Sweep;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

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

  @Option(names = "--solver", paramLabel = "NAME", description = "euler, heun, rk45 or edm. Default: the model's "
      + "default sampler (its measured preset, else rk45 for PFGM and edm for PFGM++).")
  String solver;

  @Option(names = "--steps", paramLabel = "N", description = "Grid steps of euler/heun/edm. Default: the preset's "
      + "for its solver, else 100 (PFGM), 18 (PFGM++).")
  Integer steps;

  @Option(names = "--rtol", paramLabel = "R", description = "RK45 tolerance (rtol = atol), also the RK45 row of "
      + "--sweep. Default: the preset's, else 1e-4.")
  Double rtol;

  @Option(names = "--sweep", description = "Measure the standard grid instead of one sampler: rk45 (--rtol), euler "
      + "10/20/35 steps, heun 5/10/18 steps (NFE 9/19/35); print the table and the preset, the fewest-NFE grid "
      + "setting whose FD is within 10%% of RK45's. Rows of the same model, sampler and n already in --report are "
      + "reused, so an interrupted sweep resumes.")
  boolean sweep;

  @Option(names = "--write-preset", description = "With --sweep on a bundle directory: record the preset in its "
      + "model.json (the sampler of requests that name none; the weights and their hash are untouched), the table "
      + "in the Quality section of its card.md, and redraw samples.png with it.")
  boolean writePreset;

  @Option(names = "--n", paramLabel = "N", defaultValue = "2000", description = "Images per set, 10..10000. "
      + "Default: ${DEFAULT-VALUE}.")
  int n;

  @Option(names = "--classifier", paramLabel = "DIR", defaultValue = Fieldline.MODELS_DIR + "/fmnist-classifier",
      description = "The feature classifier. Default: models/fmnist-classifier of the checkout that ./fieldline runs "
          + "from, else of the working directory.")
  Path classifier;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Engine batch size. "
      + "Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "0",
      description = "Engines, each with its own copy of the model on its own thread (the images do not depend on it). "
          + "0 (default): one per core, each model single-threaded.")
  int workers;

  @Option(names = "--report", paramLabel = "FILE", description = "Append a markdown table row to FILE.")
  Path report;

  @Option(names = "--no-progress", description = "Do not draw the progress bar.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    if (sweep && (solver != null || steps != null)) {
      throw new ParameterException(spec.commandLine(), "--sweep measures its own grid; drop --solver and --steps");
    }
    if (writePreset && (!sweep || !Files.isDirectory(Path.of(model)))) {
      throw new ParameterException(spec.commandLine(), "--write-preset needs --sweep and a model bundle directory");
    }
    PrintWriter out = spec.commandLine().getOut();
    int engines = ModelLoader.workersFor("cpu", workers);
    List<FieldModel> copies = ModelLoader.builder().optEngines(engines).build().loadCopies(model, engines);
    FieldModel field = copies.get(0);
    try (Classifier features = Classifier.load(classifier)) {
      Dataset train = Datasets.load(Datasets.fashionMnistTrain(), n, 1);
      Dataset test = Datasets.load(Datasets.fashionMnistTest(), n, 1);
      if (!sweep) {
        SamplerSettings settings = SamplerSettings.resolve(field.defaultSampler(), field.physics(), solver, steps, rtol,
            rtol);
        Evaluator.Report r = measure(copies, settings, features, train, test);
        out.println(r);
        out.println(r.markdownRow());
        out.flush();
        return 0;
      }
      List<SamplerSettings> grid = Sweep.grid(field.physics(), rtol != null ? rtol : 1e-4);
      List<Evaluator.Report> earlier = earlierRows();
      List<Evaluator.Report> rows = new ArrayList<>();
      for (SamplerSettings settings : grid) {
        Evaluator.Report r = earlier.stream().filter(e -> e.model().equals(field.name())
            && e.sampler().equals(settings.describe()) && e.n() == n).findFirst().orElse(null);
        if (r == null) {
          r = measure(copies, settings, features, train, test);
          out.println(r);
        } else {
          out.println("reusing " + report + ": " + r.markdownRow());
        }
        out.flush();
        rows.add(r);
      }
      SamplerSettings preset = Sweep.choosePreset(grid, rows);
      String section = Sweep.cardSection(field.physics(), grid, rows, preset, features.info().testAccuracy(),
          "fieldline eval --model " + Path.of(model).getFileName() + " --sweep --n " + n + " --write-preset",
          LocalDate.now(ZoneOffset.UTC) + " on " + Runtime.getRuntime().availableProcessors() + " CPU cores");
      out.println();
      out.println(section);
      if (writePreset) {
        Path dir = Path.of(model);
        ModelBundle.readMetadata(dir).withSampler(preset).write(dir);
        Path card = dir.resolve("card.md");
        String text = Files.exists(card) ? Files.readString(card) : "# " + field.name() + "\n";
        Files.writeString(card, Sweep.replaceQualitySection(text, section));
        BundleExporter.writeSamples(field, preset, dir.resolve("samples.png")); // the card shows the default sampler
        out.println("wrote the preset " + preset.describe() + " into " + dir.resolve(ModelBundle.METADATA)
            + ", the table into " + card + " and its samples into " + dir.resolve("samples.png"));
      }
      out.flush();
    } finally {
      copies.forEach(FieldModel::close);
    }
    return 0;
  }

  /** One evaluation, appended to --report when given. */
  private Evaluator.Report measure(List<FieldModel> copies, SamplerSettings settings, Classifier features,
      Dataset train, Dataset test) throws Exception {
    ProgressBar bar = new ProgressBar(System.err, settings.describe(), n, !noProgress, System::nanoTime);
    Evaluator.Report r = Evaluator.evaluate(copies, settings, n, features, train, test, batch, bar::update);
    if (report != null) {
      Files.writeString(report, r.markdownRow() + System.lineSeparator(), StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }
    return r;
  }

  private List<Evaluator.Report> earlierRows() throws java.io.IOException {
    List<Evaluator.Report> rows = new ArrayList<>();
    if (report != null && Files.exists(report)) {
      for (String line : Files.readAllLines(report)) {
        Evaluator.Report r = Evaluator.Report.parseRow(line);
        if (r != null) {
          rows.add(r);
        }
      }
    }
    return rows;
  }
}

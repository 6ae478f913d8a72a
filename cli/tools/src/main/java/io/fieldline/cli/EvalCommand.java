package io.fieldline.cli;

import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.FieldModel;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.data.Datasets;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.ModelLoader;
import io.fieldline.trainer.BundleExporter;
import io.fieldline.trainer.eval.ClassEvaluator;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code fieldline eval}: sample quality against the Fashion-MNIST test set. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Generates --n images (seed 0, indices 0..n-1, quantized to 8 bits) and measures them against the "
        + "first --n Fashion-MNIST test images in the feature space of Fieldline's classifier: Frechet distance (FD), "
        + "the floor (first --n training images vs the same test images), and k-NN precision/recall (k = 3).",
        "This is not FID: the features come from a small Fashion-MNIST CNN (see `fieldline classifier`), so values "
            + "are comparable only with each other.",
        "Images carry no class unless --guidance is given, so on a class-conditional model the plain and --sweep "
            + "measures are of its unconditional field. --guidance W[,W...] measures the classes instead: images with "
            + "classes cycled over the indices at each guidance weight, their FD, per-class FD, fidelity (the share "
            + "the classifier files under the requested class) and, with --cas N, the Classification Accuracy Score."},
    footer = {"", "Examples:",
        "  fieldline eval --model models/fmnist-pfgmpp --sweep --n 2000 --write-preset",
        "  fieldline eval --model models/fmnist-pfgmpp-cond --guidance 0,1,1.5,2,3 --n 2000 --cas 5000 --write-card"})
final class EvalCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  io.fieldline.cli.internal.EngineOptions engine;

  @Mixin
  io.fieldline.cli.internal.SamplerOptions sampler;

  @Option(names = {"-m", "--model"}, paramLabel = "SPEC", required = true,
      description = "A model bundle directory or exact:<data> (as for generate).")
  String model;

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

  @Option(names = "--report", paramLabel = "FILE", description = "Append a markdown table row to FILE.")
  Path report;

  @Option(names = "--guidance", paramLabel = "W", split = ",", description = "Class-conditional models: measure "
      + "images drawn from classes (cycled, balanced) at each of these guidance weights in [0, 20] (0: the "
      + "unconditional field; 1: the plain conditional field), with the sampler of --solver/--steps or the model's.")
  List<Double> guidance;

  @Option(names = "--cas", paramLabel = "N", defaultValue = "0", description = "With --guidance: the Classification "
      + "Accuracy Score: train the project's classifier on N generated images (classes balanced) and test it on the "
      + "10,000 real test images, next to the same classifier trained on the first N real training images. "
      + "0 (default): not measured.")
  int cas;

  @Option(names = "--write-card", description = "With --guidance on a bundle directory: write the table into the "
      + "Classes section of its card.md.")
  boolean writeCard;

  @Option(names = "--no-progress", description = "Do not draw the progress bar.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    if (sweep && (sampler.solver != null || sampler.steps != null)) {
      throw new ParameterException(spec.commandLine(), "--sweep measures its own grid; drop --solver and --steps");
    }
    if (writePreset && (!sweep || !Files.isDirectory(Path.of(model)))) {
      throw new ParameterException(spec.commandLine(), "--write-preset needs --sweep and a model bundle directory");
    }
    if (guidance != null && sweep) {
      throw new ParameterException(spec.commandLine(), "--guidance measures classes at one sampler; drop --sweep");
    }
    if ((cas != 0 || writeCard) && guidance == null) {
      throw new ParameterException(spec.commandLine(), "--cas and --write-card go with --guidance");
    }
    if (writeCard && !Files.isDirectory(Path.of(model))) {
      throw new ParameterException(spec.commandLine(), "--write-card needs a model bundle directory");
    }
    if (cas < 0 || cas > 60_000) {
      throw new ParameterException(spec.commandLine(), "--cas must be in 0..60000, got " + cas);
    }
    PrintWriter out = spec.commandLine().getOut();
    int engines = engine.engines();
    List<FieldModel> copies = engine.applyTo(ModelLoader.builder().optEngines(engines)).build()
        .loadCopies(model, engines);
    FieldModel field = copies.get(0);
    try (Classifier features = Classifier.load(classifier)) {
      Dataset train = Datasets.load(Datasets.fashionMnistTrain(), Math.max(n, cas), 1);
      Dataset test = Datasets.load(Datasets.fashionMnistTest(), guidance != null ? 10_000 : n, 1);
      if (guidance != null) {
        return measureClasses(out, copies, features, train, test);
      }
      if (!sweep) {
        SamplerSettings settings = sampler.resolve(field, rtol, rtol);
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

  /** The class table: one row per --guidance weight, written to the card with --write-card. */
  private int measureClasses(PrintWriter out, List<FieldModel> copies, Classifier features, Dataset train,
      Dataset test) throws Exception {
    FieldModel field = copies.get(0);
    if (field.classes().isEmpty()) {
      throw new Fieldline.UsageException("--guidance: " + field.name() + " is unconditional (it has no classes)");
    }
    SamplerSettings base = sampler.resolve(field, rtol, rtol);
    double casReal = 0;
    if (cas > 0) {
      out.printf(java.util.Locale.ROOT, "training the classifier on %d real images for the CAS baseline...%n", cas);
      out.flush();
      casReal = ClassEvaluator.realCas(train, test, cas);
      out.printf(java.util.Locale.ROOT, "real-data accuracy at N = %d: %.4f%n", cas, casReal);
    }
    List<ClassEvaluator.Report> rows = new ArrayList<>();
    for (double w : guidance) {
      SamplerSettings settings = Fieldline.withGuidance(base, w, field);
      ProgressBar bar = new ProgressBar(System.err, settings.describe(), Math.max(n, cas), !noProgress,
          System::nanoTime);
      ClassEvaluator.Report r = ClassEvaluator.evaluate(copies, settings, n, features, train, test, cas, casReal,
          engine.batch, bar::update);
      out.println(r);
      out.flush();
      if (report != null) {
        Files.writeString(report, r.markdownRow() + System.lineSeparator(), StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      }
      rows.add(r);
    }
    String command = "fieldline eval --model " + Path.of(model).getFileName()
        + (sampler.solver != null ? " --solver " + sampler.solver : "")
        + (sampler.steps != null ? " --steps " + sampler.steps : "") + " --guidance "
        + guidance.stream().map(w -> new java.math.BigDecimal(Double.toString(w)).stripTrailingZeros().toPlainString())
            .collect(java.util.stream.Collectors.joining(",")) + " --n " + n + (cas > 0 ? " --cas " + cas : "")
        + " --write-card";
    StringBuilder section = new StringBuilder("## Classes\n\nMeasured " + LocalDate.now(ZoneOffset.UTC) + " on "
        + Runtime.getRuntime().availableProcessors() + " CPU cores with\n\n```bash\n" + command + "\n```\n\n"
        + "Images (seed 0, index i) of class i mod " + field.classes().size() + ", sampler " + base.describe()
        + " with each guidance weight. FD: all n images against the first n test images; class FD: the mean over "
        + "classes of each class's FD against that class's test images (floors: training vs test images). Fidelity: "
        + "the share the classifier (models/fmnist-classifier) files under the requested class. CAS: the classifier "
        + "trained on N generated images and tested on the 10,000 test images, and its ratio to the same classifier "
        + "trained on N real training images" + (cas > 0 ? String.format(java.util.Locale.ROOT, " (%.4f)", casReal)
        : "") + ".\n\n" + ClassEvaluator.Report.MARKDOWN_HEADER + "\n");
    rows.forEach(r -> section.append(r.markdownRow()).append('\n'));
    out.println();
    out.println(section);
    if (writeCard) {
      Path card = Path.of(model).resolve("card.md");
      String text = Files.exists(card) ? Files.readString(card) : "# " + field.name() + "\n";
      Files.writeString(card, Sweep.replaceSection(text, "Classes", section.toString()));
      out.println("wrote the table into " + card);
    }
    out.flush();
    return 0;
  }

  /** One evaluation, appended to --report when given. */
  private Evaluator.Report measure(List<FieldModel> copies, SamplerSettings settings, Classifier features,
      Dataset train, Dataset test) throws Exception {
    ProgressBar bar = new ProgressBar(System.err, settings.describe(), n, !noProgress, System::nanoTime);
    Evaluator.Report r = Evaluator.evaluate(copies, settings, n, features, train, test, engine.batch, bar::update);
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

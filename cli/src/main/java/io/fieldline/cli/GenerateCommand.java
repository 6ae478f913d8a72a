package io.fieldline.cli;

import io.fieldline.cli.internal.NumberList;
import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.ClassPlan;
import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.ToySets;
import io.fieldline.core.Solver;
import io.fieldline.core.engine.SampleResult;
import io.fieldline.core.engine.SampleStatus;
import io.fieldline.core.engine.SampleTask;
import io.fieldline.server.ContactSheet;
import io.fieldline.server.ModelLoader;
import io.fieldline.server.SampleImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline generate}: images from a model, one PNG per (seed, index), without Kafka. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Generates images with the continuous-batching engine and writes one PNG per (seed, index).",
        "An image depends only on (model, seed, index, class, sampler settings): the same flags always give the same "
            + "bytes.",
        "Each PNG carries model, seed, index, solver, steps and NFE in its text chunks.",
        "Models of 2-D points (toy sets) write one points.csv (seed,index,x,y,nfe[,class] in seed, index order) "
            + "instead, and "
            + "--grid draws a scatter plot."},
    footer = {"", "Examples:",
        "  fieldline generate --seeds 0-63 --out out/ --grid out/grid.png",
        "  fieldline generate --model models/fmnist-pfgmpp-cond --class sandal,sneaker --guidance 2 --seeds 0-63 "
            + "--out out/shoes",
        "  fieldline generate --model exact:train-images-idx3-ubyte.gz --solver heun --steps 50 --seeds 0-9 --out out/",
        "  fieldline generate --model exact:fashion-mnist --kind pfgmpp --D 128 --solver edm --steps 18 --seeds 0-99 "
            + "--out out/"})
final class GenerateCommand implements Callable<Integer> {
  private static final long MAX_IMAGES = 10_000_000;
  private static final long MAX_POINTS = 1_000_000;

  @Spec
  CommandSpec spec;

  @Mixin
  io.fieldline.cli.internal.EngineOptions engine;

  @Mixin
  io.fieldline.cli.internal.SamplerOptions sampler;

  @Option(names = {"-m", "--model"}, paramLabel = "SPEC",
      defaultValue = Fieldline.MODELS_DIR + "/" + Fieldline.BUNDLED_MODEL,
      description = {"The model: a model bundle directory, exact:fashion-mnist (the exact field of Fashion-MNIST "
          + "training images, from Debian's dataset-fashion-mnist) or exact:<IDX file or image folder>.",
          "Default: the bundled int8 PFGM++ Fashion-MNIST network, models/" + Fieldline.BUNDLED_MODEL + " of the checkout "
              + "that ./fieldline runs from (else of the working directory)."})
  String model;

  @Option(names = "--exact-size", paramLabel = "N", defaultValue = "256",
      description = "Exact fields only: how many data images carry charges (the first N). Cost per evaluation grows "
          + "with N. Default: ${DEFAULT-VALUE}.")
  int exactSize;

  @Option(names = "--kind", paramLabel = "pfgm|pfgmpp", defaultValue = "pfgm",
      description = "Exact fields only: PFGM (D = 1) or PFGM++ (D augmented dimensions). Default: ${DEFAULT-VALUE}.")
  String kind;

  @Option(names = "--D", paramLabel = "D", defaultValue = "128",
      description = "Exact PFGM++ fields only: augmented dimensions D >= 1, or inf for the diffusion limit. "
          + "Default: ${DEFAULT-VALUE}.")
  String augmentedDimensions;

  @Option(names = "--seeds", paramLabel = "LIST", defaultValue = "0-15",
      description = "Request seeds: one image per seed (and per index). A list such as 0-63 or 1,5,9-12. "
          + "Default: ${DEFAULT-VALUE}.")
  String seeds;

  @Option(names = "--indices", paramLabel = "LIST", defaultValue = "0",
      description = "Image indices within each seed's request (as a Kafka request with count n makes indices "
          + "0..n-1). Default: ${DEFAULT-VALUE}.")
  String indices;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true,
      description = "Output folder (created). Files are seed-<seed>.png, or seed-<seed>-<index>.png with --indices; "
          + "runs of more than 1000 images go into subfolders of 1000 seeds each.")
  Path out;

  @Option(names = "--rtol", paramLabel = "R",
      description = "RK45 relative tolerance, per sample. Default: the preset's, else 1e-4.")
  Double rtol;

  @Option(names = "--atol", paramLabel = "A",
      description = "RK45 absolute tolerance. Default: the same as --rtol.")
  Double atol;

  @Option(names = "--class", paramLabel = "NAME|INDEX", split = ",",
      description = "Class-conditional models only: the classes to draw, by name or index, cycled over the images in "
          + "seed order (first image the first class, ...); 'all' cycles through every class of the model. Each PNG "
          + "names its class in its text chunks (class, class_name, guidance). Default: no class (the unconditional "
          + "field).")
  List<String> classes;

  @Option(names = "--guidance", paramLabel = "W",
      description = "Classifier-free guidance for images with a class: field = uncond + W (cond - uncond), W in "
          + "[0, 20]. 1 is the plain conditional field and 0 the unconditional one (one evaluation per step); other "
          + "values cost two evaluations per step. Default: 1.")
  Double guidance;

  @Option(names = "--grid", paramLabel = "FILE",
      description = "Also write a contact sheet of the first --grid-count images to FILE (PNG).")
  Path grid;

  @Option(names = "--grid-count", paramLabel = "N", defaultValue = "64",
      description = "Images on the contact sheet, 1..1024. Default: ${DEFAULT-VALUE}.")
  int gridCount;

  @Option(names = "--no-progress", description = "Do not draw the progress bar on stderr.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    List<Long> seedList = NumberList.parse("--seeds", seeds, MAX_IMAGES);
    List<Long> indexList = NumberList.parse("--indices", indices, MAX_IMAGES);
    long total = (long) seedList.size() * indexList.size();
    if (total > MAX_IMAGES) {
      throw new Fieldline.UsageException("--seeds x --indices asks for " + total + " images; the limit is " + MAX_IMAGES);
    }
    ModelLoader.Builder loader = engine.applyTo(ModelLoader.builder().optExactSize(exactSize));
    switch (kind.toLowerCase(Locale.ROOT)) {
      case "pfgm":
        break;
      case "pfgmpp":
      case "pfgm++":
        loader.optPfgmpp(parseD(augmentedDimensions));
        break;
      default:
        throw new Fieldline.UsageException("unknown --kind '" + kind + "' (expected pfgm or pfgmpp)");
    }
    int engines = engine.engines();
    List<FieldModel> fields = loader.optEngines(engines).build().loadCopies(model, engines);
    try {
      SamplerSettings settings = settings(fields.get(0), stderr);
      ClassPlan plan = plan(fields.get(0));
      return generate(fields, settings, plan, seedList, indexList, stdout, stderr);
    } finally {
      fields.forEach(FieldModel::close);
    }
  }

  private static double parseD(String text) {
    if (text.equalsIgnoreCase("inf") || text.equalsIgnoreCase("infinity")) {
      return Double.POSITIVE_INFINITY;
    }
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new Fieldline.UsageException("--D must be a number >= 1 or inf, got '" + text + "'");
    }
  }

  private SamplerSettings settings(FieldModel field, PrintWriter stderr) {
    SamplerSettings settings = sampler.resolve(field, rtol, atol);
    if (settings.solver() == Solver.RK45 && sampler.steps != null) {
      stderr.println("note: --steps is ignored by rk45 (it chooses its own steps; use --rtol)");
    }
    return Fieldline.withGuidance(settings, guidance, field);
  }

  private ClassPlan plan(FieldModel field) {
    try {
      return classes == null ? ClassPlan.NONE : ClassPlan.cycle(classes, field.classes());
    } catch (IllegalArgumentException e) {
      throw new Fieldline.UsageException("--class: " + e.getMessage());
    }
  }

  private int generate(List<FieldModel> fields, SamplerSettings settings, ClassPlan plan, List<Long> seedList,
      List<Long> indexList, PrintWriter stdout, PrintWriter stderr) throws InterruptedException {
    FieldModel field = fields.get(0); // for image metadata; every copy is the same model
    long total = (long) seedList.size() * indexList.size();
    // 2-D points (toy sets) go to one points.csv, in (seed, index) order, instead of one 1x2-pixel PNG each.
    boolean points = field.shape().equals(ToySets.SHAPE);
    if (points && total > MAX_POINTS) {
      throw new Fieldline.UsageException("a points.csv holds at most " + MAX_POINTS + " points, asked for " + total);
    }
    String[] pointLines = points ? new String[(int) total] : null;
    boolean subfolders = total > 1000;
    boolean withIndex = indexList.size() > 1 || indexList.get(0) != 0;
    createDirectories(out);
    // Submission position of in-flight samples whose result has a place: on the grid, or a line of points.csv.
    Map<SampleTask, Integer> position = new HashMap<>();
    double[][] gridSamples = new double[(int) Math.min(gridCount, total)][];
    Iterator<SampleTask> tasks = new Iterator<>() {
      private int s;
      private int i;
      private long ordinal;

      @Override
      public boolean hasNext() {
        return s < seedList.size();
      }

      @Override
      public SampleTask next() {
        SampleTask t = new SampleTask("seed-" + seedList.get(s), indexList.get(i), seedList.get(s), settings, 0, null,
            plan.labelOf(ordinal++));
        if (++i == indexList.size()) {
          i = 0;
          s++;
        }
        return t;
      }
    };
    ProgressBar bar = new ProgressBar(System.err, "images", total, !noProgress, System::nanoTime);
    long startNanos = System.nanoTime();
    long[] nfe = {0, Integer.MAX_VALUE, 0, 0}; // sum, min, max, images written
    List<String> failures = new ArrayList<>();
    int[] submittedOrdinal = {0};
    Iterator<SampleTask> placed = new Iterator<>() { // records where the grid or points.csv wants each result
      @Override
      public boolean hasNext() {
        return tasks.hasNext();
      }

      @Override
      public SampleTask next() {
        SampleTask task = tasks.next();
        if (points || submittedOrdinal[0] < gridSamples.length) {
          position.put(task, submittedOrdinal[0]);
        }
        submittedOrdinal[0]++;
        return task;
      }
    };
    long[] done = {0};
    // The window bounds the memory of finished-but-unwritten samples.
    Flows.forEachResult(fields, placed, engine.batch, Math.max(4 * engine.batch, 256), r -> {
      Integer slot = position.remove(r.task());
      if (r.status() == SampleStatus.COMPLETED) {
        if (points) {
          pointLines[slot] = String.format(Locale.ROOT, "%d,%d,%s,%s,%d", r.task().seed(), r.task().index(),
              r.x()[0], r.x()[1], r.nfe()) + (plan.none() ? "" : "," + r.task().label());
        } else {
          write(field, r, subfolders, withIndex);
        }
        nfe[3]++;
        nfe[0] += r.nfe();
        nfe[1] = Math.min(nfe[1], r.nfe());
        nfe[2] = Math.max(nfe[2], r.nfe());
        if (slot != null && slot < gridSamples.length) {
          gridSamples[slot] = r.x();
        }
      } else {
        failures.add("seed " + r.task().seed() + " index " + r.task().index() + ": " + r.status() + " "
            + r.message());
      }
      bar.update(++done[0]);
    });
    long written = nfe[3];
    long nfeSum = nfe[0];
    long nfeMin = nfe[1];
    long nfeMax = nfe[2];
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    if (points) {
      writePoints(pointLines, !plan.none());
    }
    if (grid != null) {
      writeGrid(field, gridSamples);
    }
    stdout.printf(Locale.ROOT, "generated %d images in %.2f s (%.2f images/s); NFE per image: mean %.1f, min %d, "
            + "max %d; model %s; sampler %s; written to %s%n", written, seconds, written / seconds,
        written == 0 ? 0.0 : (double) nfeSum / written, written == 0 ? 0 : nfeMin, nfeMax, field.name(),
        settings.describe(), out);
    stdout.flush();
    if (!failures.isEmpty()) {
      stderr.println(failures.size() + " of " + total + " images failed; first: " + failures.get(0));
      stderr.flush();
      return 1;
    }
    return 0;
  }

  private void write(FieldModel field, SampleResult r, boolean subfolders, boolean withIndex) {
    long seed = r.task().seed();
    String name = withIndex
        ? String.format(Locale.ROOT, "seed-%06d-%04d.png", seed, r.task().index())
        : String.format(Locale.ROOT, "seed-%06d.png", seed);
    Path dir = subfolders ? out.resolve(String.format(Locale.ROOT, "%06d", seed / 1000 * 1000)) : out;
    createDirectories(dir);
    try {
      Files.write(dir.resolve(name), SampleImages.png(field, r.task(), r.x(), r.nfe()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(name) + ": " + e.getMessage(), e);
    }
  }

  private void writePoints(String[] lines, boolean withClass) {
    Path csv = out.resolve("points.csv");
    try (java.io.BufferedWriter w = Files.newBufferedWriter(csv)) {
      w.write(withClass ? "seed,index,x,y,nfe,class\n" : "seed,index,x,y,nfe\n");
      for (String line : lines) {
        if (line != null) { // failed samples are reported on stderr
          w.write(line);
          w.write('\n');
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + csv + ": " + e.getMessage(), e);
    }
  }

  private void writeGrid(FieldModel field, double[][] samples) {
    List<double[]> present = new ArrayList<>();
    for (double[] s : samples) {
      if (s != null) {
        present.add(s);
      }
    }
    if (present.isEmpty()) {
      return;
    }
    Map<String, String> text = Map.of("Software", SampleImages.SOFTWARE, "fieldline.model", field.name());
    try {
      Path parent = grid.toAbsolutePath().getParent();
      if (parent != null) {
        createDirectories(parent);
      }
      Files.write(grid, ContactSheet.png(present, field.shape(), 0, 2, new java.util.TreeMap<>(text)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + grid + ": " + e.getMessage(), e);
    }
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new Fieldline.UsageException("cannot create folder " + dir + ": " + e.getMessage());
    }
  }
}

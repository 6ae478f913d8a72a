package io.fieldline.cli;

import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.ClassPlan;
import io.fieldline.core.FieldModel;
import io.fieldline.core.Latents;
import io.fieldline.core.Likelihood;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.data.Datasets;
import io.fieldline.server.ModelLoader;
import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code fieldline likelihood}: negative log-likelihood of data images in bits/dim. */
@Command(name = "likelihood", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Negative log-likelihood of data images under a model, in bits per dimension: the forward ODE "
        + "(RK45) carries each image to the prior's start while integrating the divergence of its velocity, and "
        + "ln p(x) = ln p_prior(x_T) + that integral (docs/LIKELIHOOD.md). The divergence is the exact trace "
        + "(--probes 0, up to 64 dimensions) or the Hutchinson estimate with seeded Rademacher probes, each from central "
        + "differences of the network at float32-exact points, batched with the trajectory.",
        "8-bit images are dequantized uniformly within their pixel's bin, as the published numbers do, and bits/dim "
            + "is then per unit pixel level. Writes likelihood.csv (one row per image) to --out and prints the mean "
            + "with a 95% confidence interval, the probes' noise, the evaluation counts and how the latents' norms "
            + "compare with the prior's radius law."},
    footer = {"", "Example:",
        "  fieldline likelihood --model models/fmnist-pfgmpp --data fashion-mnist-test --n 200 --out out/nll"})
final class LikelihoodCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = {"-m", "--model"}, paramLabel = "SPEC", required = true,
      description = "A float32 model bundle directory or exact:<data> (as for generate).")
  String model;

  @Option(names = "--data", paramLabel = "PATH", defaultValue = "fashion-mnist-test",
      description = "Images: fashion-mnist-test (Debian's 10,000 test images), fashion-mnist, an IDX file, a folder of "
          + "PNG/JPEG images, or a toy set (toy:moons, ...; points, so with --no-dequantize). Default: "
          + "${DEFAULT-VALUE}.")
  String data;

  @Option(names = "--n", paramLabel = "N", defaultValue = "100",
      description = "Images to evaluate (the first N), 1..10000. Default: ${DEFAULT-VALUE}.")
  int n;

  @Option(names = "--probes", paramLabel = "K", defaultValue = "1",
      description = "Rademacher probes per image, 1..64 (each an independent estimate, so K >= 2 gives each image a "
          + "standard error); 0 = the exact divergence, for models of at most 64 dimensions. Default: "
          + "${DEFAULT-VALUE}.")
  int probes;

  @Option(names = "--repeats", paramLabel = "R", defaultValue = "1",
      description = "Dequantization draws per image, 1..16, averaged in the CSV and the summary. Default: "
          + "${DEFAULT-VALUE}.")
  int repeats;

  @Option(names = "--class", paramLabel = "NAME|INDEX|own",
      description = "Class-conditional models: the likelihood under one class's field, or 'own' for each image's own "
          + "label (from the data's label file). Default: the unconditional field.")
  String classChoice;

  @Option(names = "--no-dequantize", description = "Evaluate the values as they are (continuous data such as the toy "
      + "sets); bits/dim is then per unit of the model's scale.")
  boolean noDequantize;

  @Option(names = "--rtol", paramLabel = "R", defaultValue = "1e-4",
      description = "RK45 tolerance of the trajectory (rtol = atol). Default: ${DEFAULT-VALUE}.")
  double rtol;

  @Option(names = "--max-nfe", paramLabel = "E", defaultValue = "30000",
      description = "Evaluations after which an image is given up; it is counted, left out of the mean, and the "
          + "summary says the mean is then biased. Default: ${DEFAULT-VALUE}.")
  int maxNfe;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
      description = "Seeds the probes and the dequantization noise. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--batch", paramLabel = "ROWS", defaultValue = "64",
      description = "Network rows per call (each image needs 1 + 2 x probes per evaluation). Default: "
          + "${DEFAULT-VALUE}.")
  int batch;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true, description = "Output folder (created).")
  Path out;

  @Option(names = "--no-progress", description = "Do not draw the progress bar.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    if (n < 1 || n > 10_000) {
      throw new Fieldline.UsageException("--n must be in 1..10000, got " + n);
    }
    if (repeats < 1 || repeats > 16) {
      throw new Fieldline.UsageException("--repeats must be in 1..16, got " + repeats);
    }
    if (!(rtol >= 1e-12 && rtol <= 1)) {
      throw new Fieldline.UsageException("--rtol must be in [1e-12, 1], got " + rtol);
    }
    PrintWriter stdout = spec.commandLine().getOut();
    try (FieldModel field = ModelLoader.builder().build().load(model)) {
      if (isQuantized(field)) {
        throw new Fieldline.UsageException(field.name() + " is an int8 network: its output is piecewise constant "
            + "at the scale of the difference steps, so its divergence is meaningless; use its float32 bundle");
      }
      Likelihood likelihood;
      try {
        likelihood = Likelihood.builder().setModel(field).optProbes(probes).optTolerance(rtol, rtol)
            .optMaxBatch(batch).optMaxNfe(maxNfe).build();
      } catch (IllegalArgumentException e) {
        throw new Fieldline.UsageException(e.getMessage());
      }
      Dataset images = Datasets.load(data, n, field.shape().channels());
      if (!images.shape().equals(field.shape())) {
        throw new Fieldline.UsageException(data + " holds " + images.shape() + " images; " + field.name() + " takes "
            + field.shape());
      }
      int[] labels = labels(field, images);
      int size = images.size();
      int dims = field.shape().size();
      Files.createDirectories(out);
      ProgressBar bar = new ProgressBar(System.err, "likelihood", size * repeats, !noProgress, System::nanoTime);
      // Each repeat is its own run over images 0..n-1 with its own seed, so an image's numbers do not depend on --n.
      List<List<Likelihood.Result>> runs = new java.util.ArrayList<>();
      for (int rep = 0; rep < repeats; rep++) {
        long repSeed = repeatSeed(seed, rep);
        double[][] x = new double[size][];
        for (int i = 0; i < size; i++) {
          x[i] = noDequantize ? images.images()[i] : dequantize(images.images()[i], repSeed, i, data);
        }
        int before = rep * size;
        runs.add(likelihood.evaluate(x, labels, repSeed, done -> bar.update(before + done)));
      }
      double[] bits = new double[size];
      double[] seBits = new double[size];
      int[] nfe = new int[size];
      boolean[] finished = new boolean[size];
      double[] norms = new double[size];
      try (BufferedWriter csv = Files.newBufferedWriter(out.resolve("likelihood.csv"))) {
        csv.write("index,class,bits_per_dim,nll_nats,prior_log_density,divergence_integral,probe_se_bits,nfe,rows,"
            + "latent_norm,finished\n");
        for (int i = 0; i < size; i++) {
          double logp = 0;
          double prior = 0;
          double div = 0;
          double se2 = 0;
          long rows = 0;
          long evaluations = 0;
          finished[i] = true;
          for (List<Likelihood.Result> run : runs) {
            Likelihood.Result r = run.get(i);
            finished[i] &= r.finished();
            logp += r.logDensity() / repeats;
            prior += r.priorLogDensity() / repeats;
            div += r.divergenceIntegral() / repeats;
            se2 += r.standardError() * r.standardError() / ((double) repeats * repeats);
            evaluations += r.nfe();
            rows += r.rows();
          }
          nfe[i] = (int) (evaluations / repeats); // per evaluation of the image, as in the summary
          norms[i] = Latents.norm(runs.get(0).get(i).latent()); // the first dequantization's latent
          bits[i] = Likelihood.bitsPerDim(logp, dims, !noDequantize);
          seBits[i] = Math.sqrt(se2) / (dims * Math.log(2));
          csv.write(String.format(Locale.ROOT, "%d,%d,%.6f,%.4f,%.4f,%.4f,%.6f,%d,%d,%.4f,%b%n", i,
              labels == null ? FieldModel.NO_LABEL : labels[i], bits[i], -logp, prior, div, seBits[i], nfe[i], rows,
              norms[i], finished[i]));
        }
      }
      summarize(stdout, field, bits, seBits, nfe, finished, norms, size);
    }
    return 0;
  }

  /**
   * The seed of dequantization draw {@code rep}: the given seed for the first, then steps of 2^64 / golden ratio, so
   * the draws of one run never coincide with another run's at a nearby --seed.
   */
  static long repeatSeed(long seed, int rep) {
    return seed + rep * 0x9E3779B97F4A7C15L;
  }

  private static boolean isQuantized(FieldModel field) {
    return field instanceof io.fieldline.server.OnnxFieldModel onnx
        && "int8".equals(onnx.bundle().precisionOrDefault());
  }

  private double[] dequantize(double[] image, long s, int index, String source) {
    try {
      return Likelihood.dequantize(image, s, index);
    } catch (IllegalArgumentException e) {
      throw new Fieldline.UsageException(source + " image " + index + ": " + e.getMessage()
          + " (use --no-dequantize for continuous data)");
    }
  }

  /** Each image's class, or null for the unconditional field. */
  private int[] labels(FieldModel field, Dataset images) {
    if (classChoice == null) {
      return null;
    }
    if (field.classes().isEmpty()) {
      throw new Fieldline.UsageException("--class needs a class-conditional model; " + field.name()
          + " is unconditional");
    }
    int[] labels = new int[images.size()];
    if (classChoice.equals("own")) {
      if (images.labels() == null) {
        throw new Fieldline.UsageException("--class own needs labelled data; " + data + " has no labels");
      }
      for (int i = 0; i < labels.length; i++) {
        labels[i] = images.labels()[i];
        if (labels[i] < 0 || labels[i] >= field.classes().size()) {
          throw new Fieldline.UsageException("image " + i + " has label " + labels[i] + ", not one of "
              + field.name() + "'s " + field.classes().size() + " classes");
        }
      }
      return labels;
    }
    int c;
    try {
      c = ClassPlan.index(classChoice, field.classes());
    } catch (IllegalArgumentException e) {
      throw new Fieldline.UsageException("--class: " + e.getMessage());
    }
    Arrays.fill(labels, c);
    return labels;
  }

  private void summarize(PrintWriter stdout, FieldModel field, double[] bits, double[] seBits, int[] nfe,
      boolean[] finished, double[] norms, int size) {
    int done = 0;
    double sum = 0;
    double sumSq = 0;
    double seSum = 0;
    int seCount = 0;
    for (int i = 0; i < size; i++) {
      if (finished[i]) {
        done++;
        sum += bits[i];
        sumSq += bits[i] * bits[i];
        if (Double.isFinite(seBits[i])) {
          seSum += seBits[i];
          seCount++;
        }
      }
    }
    if (done == 0) {
      throw new Fieldline.UsageException("no image finished within --max-nfe " + maxNfe + "; raise it or --rtol");
    }
    double mean = sum / done;
    double sd = done > 1 ? Math.sqrt(Math.max(0, (sumSq - done * mean * mean) / (done - 1))) : Double.NaN;
    double half = 1.96 * sd / Math.sqrt(done);
    int[] sortedNfe = new int[done];
    double[] sortedNorms = new double[done];
    for (int i = 0, k = 0; i < size; i++) {
      if (finished[i]) { // an unfinished image's latent is mid-path and its NFE the cap
        sortedNfe[k] = nfe[i];
        sortedNorms[k++] = norms[i];
      }
    }
    Arrays.sort(sortedNfe);
    Arrays.sort(sortedNorms);
    double[] prior = EncodeCommand.priorRadii(field.physics());
    stdout.printf(Locale.ROOT, "%s on %d images of %s (%s, %s): %.4f bits/dim (95%% CI %.4f-%.4f, sd %.3f)%n",
        field.name(), done, data, noDequantize ? "as given" : "dequantized" + (repeats > 1 ? " x" + repeats : ""),
        classChoice == null ? "unconditional" : "class " + classChoice, mean, mean - half, mean + half, sd);
    stdout.printf(Locale.ROOT, "divergence: %s; probe noise %s bits/dim per image; NFE median %d (rows per NFE %d)%n",
        probes == 0 ? "exact trace" : probes + " Rademacher probe" + (probes == 1 ? "" : "s"),
        seCount == 0 ? "n/a (use --probes 2 or more)" : String.format(Locale.ROOT, "%.4f", seSum / seCount),
        sortedNfe[done / 2], 1 + 2 * (probes == 0 ? field.shape().size() : probes));
    stdout.printf(Locale.ROOT, "latent norms: median %.1f against the prior's %.1f; KS statistic %.3f (n = %d)%n",
        sortedNorms[done / 2], prior[5_000], EncodeCommand.ks(sortedNorms, prior), done);
    if (done < size) {
      stdout.printf(Locale.ROOT, "warning: %d of %d images did not finish within --max-nfe %d and are left out: the "
          + "mean is biased toward the images the model finds easy%n", size - done, size, maxNfe);
    }
    stdout.println("wrote " + out.resolve("likelihood.csv"));
    stdout.flush();
  }
}

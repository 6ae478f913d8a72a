package io.fieldline.cli;

import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.Latents;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.Priors;
import io.fieldline.core.SamplerSettings;
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
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline encode}: images to latents with the forward ODE, and back. */
@Command(name = "encode", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Carries images to the prior's start surface with the forward ODE (RK45): the latent of each image, "
        + "from which the backward ODE makes that image again. Writes latents.csv (index, norm, then the N values) to "
        + "--out, and prints how the latents' norms compare with the prior's radius law (two-sample Kolmogorov-Smirnov "
        + "statistic against 10,000 prior draws) and, with --check, the round-trip error of decoding them back.",
        "Latents are where the flow takes the data; images that the model's field does not carry to typical prior "
            + "radii land where sampling rarely starts, which the KS statistic shows."},
    footer = {"", "Example:",
        "  fieldline encode --model models/fmnist-pfgmpp --data /usr/share/datasets/fashion-mnist/"
            + "t10k-images-idx3-ubyte.gz --limit 16 --check --out out/latents"})
final class EncodeCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = {"-m", "--model"}, paramLabel = "SPEC", required = true,
      description = "A model bundle directory or exact:<data> (as for generate).")
  String model;

  @Option(names = "--data", paramLabel = "PATH", required = true,
      description = "Images: an IDX file, a folder of PNG/JPEG images, or fashion-mnist; they must have the model's "
          + "shape.")
  String data;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "16", description = "Images to encode (the first N), "
      + "1..10000. Default: ${DEFAULT-VALUE}.")
  int limit;

  @Option(names = "--rtol", paramLabel = "R", defaultValue = "1e-5", description = "RK45 tolerance (rtol = atol) of "
      + "both directions. Default: ${DEFAULT-VALUE}.")
  double rtol;

  @Option(names = "--check", description = "Decode each latent back (RK45, same tolerance) and report the largest "
      + "pixel difference to its image, in 8-bit levels.")
  boolean check;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true, description = "Output folder (created).")
  Path out;

  @Option(names = "--no-progress", description = "Do not draw the progress bar.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    if (limit < 1 || limit > 10_000) {
      throw new Fieldline.UsageException("--limit must be in 1..10000, got " + limit);
    }
    SamplerSettings.rk45(rtol); // refuses a tolerance outside [1e-12, 1] (NaN too) before any work
    PrintWriter stdout = spec.commandLine().getOut();
    try (FieldModel field = ModelLoader.builder().build().load(model)) {
      Dataset images = Datasets.load(data, limit, field.shape().channels());
      if (!images.shape().equals(field.shape())) {
        throw new Fieldline.UsageException(data + " holds " + images.shape() + " images; " + field.name() + " makes "
            + field.shape());
      }
      Files.createDirectories(out);
      double[] norms = new double[images.size()];
      double worst = 0;
      double sumWorst = 0;
      // All images integrate side by side, their field evaluations batched (each latent is what Flows.encode gives).
      ProgressBar bar = new ProgressBar(System.err, "encoded", images.size(), !noProgress, System::nanoTime);
      List<Flows.Result> latents = Flows.encodeAll(field, images.images(), rtol, rtol, 64, bar::update);
      double[][] x0 = latents.stream().map(Flows.Result::x).toArray(double[][]::new);
      try (BufferedWriter csv = Files.newBufferedWriter(out.resolve("latents.csv"))) {
        csv.write("index,norm," + String.join(",", java.util.stream.IntStream.range(0, field.shape().size())
            .mapToObj(i -> "v" + i).toList()) + "\n");
        for (int i = 0; i < x0.length; i++) {
          norms[i] = Latents.norm(x0[i]);
          StringBuilder row = new StringBuilder().append(i).append(',').append(norms[i]);
          for (double v : x0[i]) {
            row.append(',').append(v);
          }
          csv.write(row.append('\n').toString());
        }
      }
      if (check) {
        ProgressBar back = new ProgressBar(System.err, "decoded", images.size(), !noProgress, System::nanoTime);
        List<Flows.Result> decoded = Flows.decodeAll(field, SamplerSettings.rk45(rtol), x0, 64, back::update);
        for (int i = 0; i < x0.length; i++) {
          double err = 0;
          for (int k = 0; k < field.shape().size(); k++) {
            err = Math.max(err, Math.abs(decoded.get(i).x()[k] - images.images()[i][k]) * 127.5);
          }
          worst = Math.max(worst, err);
          sumWorst += err;
        }
      }
      double[] prior = priorRadii(field.physics());
      double[] sorted = norms.clone();
      Arrays.sort(sorted);
      String surface = field.physics() instanceof PfgmPhysics p ? String.format(Locale.ROOT, "z = %.4g", p.zMax())
          : String.format(Locale.ROOT, "sigma = %.4g", Priors.start(field.physics()));
      stdout.printf(Locale.ROOT, "encoded %d images of %s to %s at %s%n", images.size(), data,
          out.resolve("latents.csv"), surface);
      stdout.printf(Locale.ROOT, "latent norms: median %.1f (min %.1f, max %.1f); prior radius: median %.1f (0.1%%: "
              + "%.1f, 99.9%%: %.1f); KS statistic %.3f (n = %d against 10,000 prior draws)%n",
          sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1], prior[5_000], prior[10], prior[9_989], ks(sorted, prior),
          sorted.length);
      if (check) {
        stdout.printf(Locale.ROOT, "round trip (decode with rk45 at %.0e): largest pixel error %.3f levels of 255 "
            + "(mean over images of each image's largest %.3f)%n", rtol, worst, sumWorst / images.size());
      }
      stdout.flush();
    }
    return 0;
  }

  /** 10,000 draws of the prior's radius law (fixed seed), sorted: the reference the latents' norms are compared with. */
  static double[] priorRadii(io.fieldline.core.Physics physics) {
    double[] prior = new double[10_000];
    for (int j = 0; j < prior.length; j++) {
      prior[j] = Priors.radius(physics, 987_654_321L, j);
    }
    Arrays.sort(prior);
    return prior;
  }

  /** The two-sample Kolmogorov-Smirnov statistic of two sorted samples. */
  static double ks(double[] a, double[] b) {
    int i = 0;
    int j = 0;
    double d = 0;
    while (i < a.length && j < b.length) {
      double x = Math.min(a[i], b[j]);
      while (i < a.length && a[i] <= x) {
        i++;
      }
      while (j < b.length && b[j] <= x) {
        j++;
      }
      d = Math.max(d, Math.abs((double) i / a.length - (double) j / b.length));
    }
    return d;
  }
}

package io.fieldline.cli;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.Latents;
import io.fieldline.core.Priors;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.Datasets;
import io.fieldline.server.ContactSheet;
import io.fieldline.server.ModelLoader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline interpolate}: a strip of images along a path between two latents. */
@Command(name = "interpolate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Decodes --frames latents on the path between two ends and writes them as one PNG strip. An end is "
        + "a prior draw SEED:INDEX (the latent of image INDEX of a request with that seed) or an image file, encoded "
        + "to its latent with the forward ODE (RK45) first. The path keeps the prior's shape: the direction moves on "
        + "the great circle between the ends, the radius linearly.",
        "The first and last frames are the two ends' images (a draw's frame equals what generate makes for it)."},
    footer = {"", "Examples:",
        "  fieldline interpolate --from 0:0 --to 1:0 --frames 10 --out out/strip.png",
        "  fieldline interpolate --model models/fmnist-pfgmpp --from shoe.png --to bag.png --out out/shoe-bag.png"})
final class InterpolateCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  io.fieldline.cli.internal.SamplerOptions sampler;

  @Option(names = {"-m", "--model"}, paramLabel = "SPEC",
      defaultValue = Fieldline.MODELS_DIR + "/" + Fieldline.BUNDLED_FLOAT_MODEL,
      description = "A model bundle directory or exact:<data>. Default: the bundled float32 PFGM++ network (the "
          + "inversion wants the smooth float field).")
  String model;

  @Option(names = "--from", paramLabel = "SEED:INDEX|IMAGE", required = true, description = "The first end.")
  String from;

  @Option(names = "--to", paramLabel = "SEED:INDEX|IMAGE", required = true, description = "The last end.")
  String to;

  @Option(names = "--frames", paramLabel = "K", defaultValue = "8", description = "Images in the strip, 2..64, ends "
      + "included. Default: ${DEFAULT-VALUE}.")
  int frames;

  @Option(names = "--rtol", paramLabel = "R", defaultValue = "1e-5", description = "RK45 tolerance of encoding an "
      + "image end. Default: ${DEFAULT-VALUE}.")
  double rtol;

  @Option(names = {"-o", "--out"}, paramLabel = "FILE", required = true, description = "The strip (PNG).")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (frames < 2 || frames > 64) {
      throw new Fieldline.UsageException("--frames must be in 2..64, got " + frames);
    }
    SamplerSettings.rk45(rtol); // refuses a tolerance outside [1e-12, 1] before any work
    PrintWriter stdout = spec.commandLine().getOut();
    try (FieldModel field = ModelLoader.builder().build().load(model)) {
      SamplerSettings settings = sampler.resolve(field, null, null);
      double[] a = latent(field, from, "--from");
      double[] b = latent(field, to, "--to");
      double[][] path = new double[frames][];
      for (int k = 0; k < frames; k++) {
        path[k] = Latents.slerp(a, b, k / (double) (frames - 1));
      }
      List<double[]> strip = new ArrayList<>();
      Flows.decodeAll(field, settings, path, 64, done -> { }).forEach(r -> strip.add(r.x()));
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.write(out, ContactSheet.png(strip, field.shape(), frames, 2, Map.of("Software", "Fieldline",
          "fieldline.model", field.name(), "fieldline.sampler", settings.describe(), "fieldline.from", from,
          "fieldline.to", to)));
      stdout.printf(Locale.ROOT, "%d frames from %s to %s (latent norms %.1f and %.1f), sampler %s: %s%n", frames,
          from, to, Latents.norm(a), Latents.norm(b), settings.describe(), out);
      stdout.flush();
    }
    return 0;
  }

  /** A prior draw for SEED:INDEX, else the encoded latent of an image file. */
  private double[] latent(FieldModel field, String end, String flag) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(-?\\d+):(\\d+)").matcher(end.trim());
    if (m.matches()) {
      return Priors.draw(field.physics(), Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
    }
    Path file = Path.of(end);
    if (!Files.exists(file)) {
      throw new Fieldline.UsageException(flag + " '" + end + "' is neither SEED:INDEX nor an image file that exists");
    }
    return Flows.encode(field, Datasets.readImage(file, field.shape()), rtol, rtol).x();
  }
}

package io.fieldline.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.engine.SampleResult;
import io.fieldline.core.engine.SampleStatus;
import io.fieldline.server.ContactSheet;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.OnnxFieldModel;
import io.fieldline.trainer.internal.Checkpoint;
import io.fieldline.trainer.internal.FieldNet;
import io.fieldline.trainer.internal.NetConfig;
import io.fieldline.trainer.internal.Networks;
import io.fieldline.trainer.internal.OnnxGraph;
import io.fieldline.trainer.internal.Optimizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a training run into a model bundle: the EMA weights of the last checkpoint, exported to ONNX by the project's
 * own exporter, {@code model.json} with physics and SHA-256, a {@code card.md}, the run's loss curve and a 64-sample
 * grid generated through the serving path (ONNX Runtime and the engine) with the family's default sampler.
 */
public final class BundleExporter {
  private BundleExporter() {}

  /**
   * Exports.
   *
   * @param runDir a training run directory with a checkpoint
   * @param out the bundle directory (created)
   * @param name the model name
   * @param version the model version
   * @return the written bundle, loaded back and verified
   */
  public static ModelBundle export(Path runDir, Path out, String name, String version) throws IOException {
    RunInfo info = RunInfo.read(runDir);
    Path checkpointFile = runDir.resolve("checkpoint.bin");
    if (!Files.exists(checkpointFile)) {
      throw new IllegalArgumentException(runDir + " has no checkpoint yet (train for at least "
          + info.settings().checkpointEvery() + " steps)");
    }
    Checkpoint checkpoint = Checkpoint.read(checkpointFile);
    NetConfig config = FieldTrainer.network(info);
    Files.createDirectories(out);
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      FieldNet net = Networks.create(config, manager, info.settings().seed());
      try (Optimizer optimizer = new Optimizer(net.getParameters(), manager, 0.9f, 0.999f, 1e-8f)) {
        optimizer.restore(checkpoint.tensors());
        optimizer.loadEmaIntoParameters();
        String doc = "Fieldline " + info.settings().kind() + " field network, " + checkpoint.step() + " steps on "
            + info.data();
        Files.write(out.resolve(ModelBundle.WEIGHTS), net.export().model(version, doc).toByteArray());
      }
    }
    JsonObject network = new JsonObject();
    network.addProperty("architecture", config.describe());
    network.addProperty("parameters", info.parameters());
    network.addProperty("opset", OnnxGraph.OPSET);
    network.addProperty("inputs", "x float[batch, " + config.shape().size() + "], cond float[batch] ("
        + (config.pfgm() ? "z" : "sigma") + ")" + (config.conditional() ? ", label int64[batch] (class index, "
        + config.classes() + " = no label)" : ""));
    network.addProperty("output", "out float[batch, " + config.outputSize() + "]");
    JsonObject training = new JsonObject();
    training.addProperty("steps", checkpoint.step());
    training.addProperty("data", info.data());
    training.addProperty("images", info.images());
    training.addProperty("settings", info.settings().fingerprint());
    training.addProperty("seconds", trainingSeconds(runDir));
    ModelBundle bundle = new ModelBundle(ModelBundle.FORMAT, name, version, info.settings().kind(), info.shape(),
        info.physics(), network, training, ModelBundle.sha256(out.resolve(ModelBundle.WEIGHTS)), null,
        info.settings().conditional() ? info.settings().labels().classes() : null);
    bundle.write(out);
    if (Files.exists(runDir.resolve("loss.png"))) {
      Files.copy(runDir.resolve("loss.png"), out.resolve("loss.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    try (OnnxFieldModel model = OnnxFieldModel.load(out, "cpu")) {
      writeSamples(model, model.defaultSampler(), out.resolve("samples.png"));
    }
    Files.writeString(out.resolve("card.md"), card(bundle, info, checkpoint.step(), trainingSeconds(runDir)));
    return ModelBundle.read(out);
  }

  /**
   * Draws a bundle's card grid with {@code settings}, 8 per row, as a PNG that names the sampler in its text chunks:
   * 64 samples (seed 0, indices 0-63), or for a class-conditional model one row per class (image i of class i / 8).
   */
  public static void writeSamples(FieldModel model, SamplerSettings settings, Path file) throws IOException {
    List<double[]> samples = new ArrayList<>();
    int classes = model.classes().size();
    int count = classes == 0 ? 64 : 8 * classes;
    try {
      for (SampleResult r : Flows.sampleAll(List.of(model), settings, "card", 0,
          i -> classes == 0 ? FieldModel.NO_LABEL : i / 8, count, 64, done -> { })) {
        if (r.status() == SampleStatus.COMPLETED) {
          samples.add(r.x());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while drawing the sample grid", e);
    }
    if (!samples.isEmpty()) {
      Files.write(file, ContactSheet.png(samples, model.shape(), 8, 2,
          Map.of("Software", "Fieldline", "fieldline.sampler", settings.describe())));
    }
  }

  /**
   * Training time of the steps in loss.csv. Its last column restarts from 0 with each resumed session, so the time is
   * the sum of each session's last value (steps redone after a crash count once, in the session that kept them).
   */
  static double trainingSeconds(Path runDir) throws IOException {
    Path csv = runDir.resolve("loss.csv");
    if (!Files.exists(csv)) {
      return 0;
    }
    double total = 0;
    double previous = 0;
    for (String line : Files.readAllLines(csv)) {
      if (line.isBlank() || line.startsWith("step")) {
        continue;
      }
      double elapsed = Double.parseDouble(line.substring(line.lastIndexOf(',') + 1));
      if (elapsed < previous) {
        total += previous; // a new session started here
      }
      previous = elapsed;
    }
    return total + previous;
  }

  /** The train flags that reproduce a non-default architecture ("" for the default). */
  private static String architectureFlags(TrainSettings.Architecture a) {
    if (a == null) {
      return "";
    }
    StringBuilder flags = new StringBuilder();
    if (a.levels() != null) {
      flags.append(" --levels ").append(java.util.Arrays.stream(a.levels()).mapToObj(String::valueOf)
          .collect(java.util.stream.Collectors.joining(",")));
    }
    if (a.blocks() > 0) {
      flags.append(" --blocks ").append(a.blocks());
    }
    if (a.attention()) {
      flags.append(" --attention");
    }
    return flags.toString();
  }

  private static String card(ModelBundle bundle, RunInfo info, long steps, double seconds) {
    TrainSettings s = info.settings();
    // Every setting that shapes the weights, so the command reproduces the run (warm-up, EMA and clip included).
    String command = String.format(Locale.ROOT, "fieldline train --data %s --kind %s%s --steps %d --batch %d%s "
            + "--lr %s --warmup %d --ema %s --clip %s --width %d%s --seed %d --out RUN_DIR", info.data(), s.kind(),
        s.kind().equals("pfgmpp") ? " --D " + (long) s.augmentedDimensions() : "", s.steps(), s.batch(),
        s.kind().equals("pfgm") ? " --charges " + s.charges() : "", s.learningRate(), s.warmup(), s.emaDecay(),
        s.clip(), s.width(),
        architectureFlags(s.architecture()) + (s.conditional() ? " --labels --label-dropout " + s.labels().dropout()
            : "") + (info.initFrom() != null ? " --init-from " + info.initFrom().replaceAll(" at step \\d+$", "")
            : ""), s.seed());
    return "# " + bundle.name() + " (version " + bundle.version() + ")\n\n"
        + "A " + (s.kind().equals("pfgm") ? "PFGM (D = 1)" : "PFGM++ (D = " + (long) s.augmentedDimensions() + ")")
        + " field network for " + info.shape() + " images, trained by Fieldline.\n\n"
        + "| | |\n|---|---|\n"
        + "| Data | " + info.data() + " (" + info.images() + " images) |\n"
        + "| Physics | " + bundle.physics().describe() + " |\n"
        + "| Network | " + bundle.network().get("architecture").getAsString() + "; " + info.parameters()
        + " parameters |\n"
        + "| Training | " + steps + " steps, " + String.format(Locale.ROOT, "%.1f h", seconds / 3600)
        + " on the machine that trained it; " + s.fingerprint() + " |\n"
        + (s.conditional() ? "| Classes | " + String.join(", ", s.labels().classes()) + " (label dropout "
            + s.labels().dropout() + ") |\n" : "")
        + (info.initFrom() != null ? "| Warm start | " + info.initFrom() + " |\n" : "")
        + "| Weights | field.onnx, SHA-256 " + bundle.weightsSha256() + " |\n\n"
        + "Training command:\n\n```bash\n" + command + "\nfieldline export RUN_DIR --out " + bundle.name() + "\n```\n\n"
        + (s.conditional() ? "## Samples\n\n![one row per class (" + String.join(", ", s.labels().classes())
            + "), seed 0, default sampler](samples.png)\n\n"
            : "## Samples\n\n![64 samples, seeds 0, indices 0-63, default sampler](samples.png)\n\n")
        + "## Loss\n\n![training loss](loss.png)\n\n"
        + "## Quality\n\nNot evaluated yet: run `fieldline eval --model <this directory>`.\n";
  }
}

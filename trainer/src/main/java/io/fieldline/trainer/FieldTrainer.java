package io.fieldline.trainer;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;
import io.fieldline.core.SampleRandom;
import io.fieldline.core.data.Dataset;
import io.fieldline.server.ModelBundle;
import io.fieldline.trainer.internal.Checkpoint;
import io.fieldline.trainer.internal.FieldNet;
import io.fieldline.trainer.internal.LossCurve;
import io.fieldline.trainer.internal.NetConfig;
import io.fieldline.trainer.internal.Networks;
import io.fieldline.trainer.internal.Objective;
import io.fieldline.trainer.internal.Optimizer;
import io.fieldline.trainer.internal.PfgmObjective;
import io.fieldline.trainer.internal.PfgmppObjective;
import io.fieldline.trainer.internal.TrainingBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Trains a field network on the PyTorch engine (CPU natives from Maven Central, offline) and keeps everything a run
 * needs in its directory: {@code run.json} (settings, physics, data), {@code checkpoint.bin} (weights, EMA, Adam
 * moments), {@code loss.csv} and {@code loss.png}.
 *
 * <p>Resuming: {@link #train()} on a directory with a checkpoint continues from its step. Data order and noise are
 * counter-based functions of (seed, step), and the optimizer state is restored, so a resumed run follows the same
 * loss trajectory as an uninterrupted one (up to the non-associativity of multithreaded float sums).
 *
 * <p>Objectives: PFGM (D = 1) regresses the normalized empirical field of {@code charges} images, computed in double
 * by core's exact field; PFGM++ is EDM's denoising loss with p_r-kernel noise. See docs/PHYSICS.md sections 2-4, 8.
 */
public final class FieldTrainer {
  private static final String CHECKPOINT = "checkpoint.bin";
  private static final int MAX_SKIPPED_IN_A_ROW = 20;
  private final Dataset data;
  private final TrainSettings settings;
  private final Path runDir;
  private final TrainingListener listener;
  private final Path initFrom;

  private FieldTrainer(Builder b) {
    this.data = b.data;
    this.settings = b.settings;
    this.runDir = b.runDir;
    this.listener = b.listener;
    this.initFrom = b.initFrom;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The physics a run on this data gets. */
  static Physics physicsFor(TrainSettings s, Dataset data) {
    int n = data.shape().size();
    if (s.kind().equals("pfgm")) {
      return PfgmPhysics.recommended(n, data.averageNorm()).withZExp(s.zExp());
    }
    return PfgmppPhysics.edmDefaults(n, s.augmentedDimensions());
  }

  /** The network of a run. */
  public static NetConfig network(RunInfo info) {
    TrainSettings s = info.settings();
    NetConfig defaults = NetConfig.small(info.shape(), s.kind().equals("pfgm"));
    TrainSettings.Architecture a = s.architecture();
    NetConfig net = a == null ? defaults.with(s.width(), null, 0, false)
        : defaults.with(s.width(), a.levels(), a.blocks(), a.attention());
    return net.withClasses(s.conditional() ? s.labels().classes().size() : 0);
  }

  /**
   * The settings with architecture values that equal the shape's defaults dropped, so {@code --blocks 1} names the
   * same run (and fingerprint) as no flag at all.
   */
  static TrainSettings withoutDefaults(TrainSettings s, io.fieldline.core.ImageShape shape) {
    TrainSettings.Architecture a = s.architecture();
    if (a == null) {
      return s;
    }
    NetConfig defaults = NetConfig.small(shape, s.kind().equals("pfgm"));
    int[] levels = java.util.Arrays.equals(a.levels(), defaults.mult()) ? null : a.levels();
    int blocks = a.blocks() == defaults.blocks() ? 0 : a.blocks();
    return s.withArchitecture(levels == null && blocks == 0 && !a.attention() ? null
        : new TrainSettings.Architecture(levels, blocks, a.attention()));
  }

  /**
   * Runs (or resumes) training up to {@code settings.steps()}.
   *
   * @return the run's description
   * @throws IllegalArgumentException if the directory holds a run with other settings
   */
  public RunInfo train() throws IOException {
    TrainSettings settings = withoutDefaults(this.settings, data.shape());
    if (settings.conditional() && !data.labelled()) {
      throw new IllegalArgumentException(data.source() + " has no class labels (an IDX file needs its labels-idx1 "
          + "sibling, an image folder one subfolder per class)");
    }
    if (settings.conditional() && !settings.labels().classes().equals(data.classes())) {
      throw new IllegalArgumentException("the run's classes " + settings.labels().classes() + " are not the data's "
          + data.classes());
    }
    Files.createDirectories(runDir);
    RunInfo info;
    Path checkpointFile = runDir.resolve(CHECKPOINT);
    if (Files.exists(runDir.resolve(RunInfo.FILE))) {
      info = RunInfo.read(runDir);
      if (!info.settings().fingerprint().equals(settings.fingerprint())) {
        throw new IllegalArgumentException(runDir + " holds a run with other settings (" + info.settings().fingerprint()
            + "); use a new --out or the same settings");
      }
      if (initFrom == null && info.initFrom() != null && !Files.exists(checkpointFile)) {
        throw new IllegalArgumentException(runDir + " was warm-started from " + info.initFrom() + " and has no "
            + "checkpoint yet: repeat --init-from to start it again");
      }
      info = new RunInfo(settings, info.shape(), info.physics(), info.data(), info.images(), info.kernelDepth(),
          info.parameters(), info.initFrom());
    } else {
      Physics physics = physicsFor(settings, data);
      int m = physics instanceof PfgmPhysics ? PfgmPhysics.recommendedM(data.shape().size(), data.averageNorm()) : 0;
      info = new RunInfo(settings, data.shape(), ModelBundle.physicsToJson(physics), data.source(), data.size(), m, 0,
          null);
    }
    WarmStart warm = null;
    if (initFrom != null && !Files.exists(checkpointFile)) {
      warm = WarmStart.check(initFrom, info, network(info));
      info = new RunInfo(info.settings(), info.shape(), info.physics(), info.data(), info.images(), info.kernelDepth(),
          info.parameters(), initFrom + " at step " + warm.checkpoint().step());
    }
    NetConfig config = network(info);
    Physics physics = info.toPhysics();
    Objective objective = physics instanceof PfgmPhysics p
        ? new PfgmObjective(p, info.shape(), info.kernelDepth())
        : new PfgmppObjective((PfgmppPhysics) physics);
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      FieldNet net = Networks.create(config, manager, settings.seed());
      for (var p : net.zeroInitializedParameters()) {
        p.getArray().muli(0);
      }
      info = info.withParameters(Networks.parameterCount(net));
      info.write(runDir);
      try (Optimizer optimizer = new Optimizer(net.getParameters(), manager, 0.9f, 0.999f, 1e-8f)) {
        long step = 0;
        if (Files.exists(checkpointFile)) {
          Checkpoint checkpoint = Checkpoint.read(checkpointFile);
          optimizer.restore(checkpoint.tensors());
          step = checkpoint.step();
          truncateLog(runDir.resolve("loss.csv"), step); // steps after the checkpoint will run again
        } else if (warm != null) {
          step = warm.apply(optimizer, runDir);
        }
        ParameterStore store = new ParameterStore(manager, false);
        Engine engine = Engine.getEngine(Networks.ENGINE);
        long startNanos = System.nanoTime();
        int skippedInARow = 0;
        while (step < settings.steps()) {
          step++;
          double lr = settings.learningRate() * Math.min(1.0, (double) step / Math.max(1, settings.warmup()));
          double emaDecay = Math.min(settings.emaDecay(), (1.0 + step) / (10.0 + step));
          int[] picked = picks(step);
          int[] rowLabels = config.conditional() ? labels(picked, settings.batch(), step) : null;
          TrainingBatch batch = config.conditional()
              ? objective.batch(images(picked), trueLabels(picked), rowLabels, settings.labels().classes(),
                  settings.batch(), settings.seed(), step)
              : objective.batch(images(picked), settings.batch(), settings.seed(), step);
          double loss;
          double gradNorm;
          try (NDManager scope = manager.newSubManager()) {
            int n = config.shape().size();
            NDArray x = scope.create(batch.inputs(), new Shape(batch.size(), n));
            NDArray cond = scope.create(batch.cond(), new Shape(batch.size()));
            NDArray target = scope.create(batch.targets(), new Shape(batch.size(), config.outputSize()));
            NDArray weights = scope.create(batch.weights(), new Shape(batch.size(), 1));
            NDList inputs = new NDList(x, cond);
            if (config.conditional()) {
              inputs.add(scope.create(FieldNet.oneHot(rowLabels, config.classes()),
                  new Shape(batch.size(), config.classes())));
            }
            NDArray lossArray;
            try (GradientCollector collector = engine.newGradientCollector()) {
              NDArray out = net.forward(store, inputs, true).singletonOrThrow();
              // The constant as a scope tensor, not a Java number: see Layers.constant.
              lossArray = out.sub(target).square().sum(new int[] {1}, true).mul(weights).mean()
                  .mul(scope.create(config.pfgm() ? 0.5f : 1f));
              collector.backward(lossArray);
            }
            loss = lossArray.getFloat();
            gradNorm = optimizer.step(scope, step, lr, settings.clip(), emaDecay);
          }
          if (!Double.isFinite(loss)) {
            throw new IllegalStateException("training diverged at step " + step + " (loss " + loss + "); the last "
                + "good checkpoint is " + checkpointFile);
          }
          if (!Double.isFinite(gradNorm)) {
            // Like EDM (which passes gradients through nan_to_num), a rare non-finite gradient does not end the run:
            // the optimizer skipped this update. Many in a row mean the run is broken.
            if (++skippedInARow > MAX_SKIPPED_IN_A_ROW) {
              throw new IllegalStateException("training diverged: " + skippedInARow + " non-finite gradients in a row "
                  + "up to step " + step + "; the last good checkpoint is " + checkpointFile);
            }
            noteSkipped(step, batch, gradNorm);
          } else {
            skippedInARow = 0;
          }
          LossCurve.append(runDir.resolve("loss.csv"), step, loss, gradNorm, lr,
              (System.nanoTime() - startNanos) / 1e9);
          listener.onStep(step, settings.steps(), loss, gradNorm, lr);
          if (step % settings.checkpointEvery() == 0 || step == settings.steps()) {
            new Checkpoint(step, settings.fingerprint(), optimizer.snapshot()).write(checkpointFile);
            LossCurve.plot(runDir.resolve("loss.csv"), runDir.resolve("loss.png"),
                "Fieldline " + settings.kind() + " training loss (" + info.data() + ")");
            listener.onCheckpoint(step, checkpointFile);
          }
        }
      }
    }
    return info;
  }

  /** A checked warm-start source: its checkpoint, to be applied once the new network exists. */
  private record WarmStart(Path source, Checkpoint checkpoint) {
    static WarmStart check(Path source, RunInfo target, NetConfig targetNet) throws IOException {
      RunInfo from = RunInfo.read(source);
      Path file = source.resolve(CHECKPOINT);
      if (!Files.exists(file)) {
        throw new IllegalArgumentException(source + " has no checkpoint to start from");
      }
      NetConfig fromNet = network(from).withClasses(targetNet.classes());
      if (!from.settings().kind().equals(target.settings().kind()) || !from.shape().equals(target.shape())
          || !from.physics().equals(target.physics()) || !fromNet.describe().equals(targetNet.describe())) {
        throw new IllegalArgumentException("--init-from " + source + " holds another network or physics ("
            + from.settings().kind() + ", " + from.shape() + ", " + network(from).describe() + ", " + from.physics()
            + "); a warm start needs the same kind, D, image shape and architecture (only class labels may be added)");
      }
      return new WarmStart(source, Checkpoint.read(file));
    }

    /** Loads the source's state into the new network and returns the step training goes on from. */
    long apply(Optimizer optimizer, Path runDir) throws IOException {
      List<String> fresh = optimizer.restoreMatching(checkpoint.tensors());
      for (String name : fresh) {
        if (!name.contains("label_embed")) {
          throw new IllegalStateException("--init-from " + source + " lacks parameter " + name);
        }
      }
      Path from = source.resolve("loss.csv");
      if (Files.exists(from)) {
        Files.copy(from, runDir.resolve("loss.csv"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        truncateLog(runDir.resolve("loss.csv"), checkpoint.step());
      }
      return checkpoint.step();
    }
  }

  /** Drops loss.csv lines of steps after {@code step} (done before a crash, after the last checkpoint). */
  private static void truncateLog(Path csv, long step) throws IOException {
    if (!Files.exists(csv)) {
      return;
    }
    java.util.List<String> kept = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(csv)) {
      int comma = line.indexOf(',');
      if (line.startsWith("step") || (comma > 0 && Long.parseLong(line.substring(0, comma)) <= step)) {
        kept.add(line);
      }
    }
    Files.write(csv, kept);
  }

  /** Records a skipped update and the conditioning range of its batch in skipped.log, for diagnosis. */
  private void noteSkipped(long step, TrainingBatch batch, double gradNorm) throws IOException {
    double lo = Double.POSITIVE_INFINITY;
    double hi = 0;
    for (float c : batch.cond()) {
      lo = Math.min(lo, c);
      hi = Math.max(hi, c);
    }
    Files.writeString(runDir.resolve("skipped.log"), String.format(java.util.Locale.ROOT,
        "step %d: gradient norm %s, update skipped; cond range [%.4g, %.4g]%n", step, gradNorm, lo, hi),
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
  }

  /** The images of a step, as data indices: counter-based uniform draws (with replacement) from the data set. */
  private int[] picks(long step) {
    int count = settings.kind().equals("pfgm") ? settings.charges() : settings.batch();
    SampleRandom random = new SampleRandom(settings.seed(), step, 1);
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = (int) (random.nextDouble() * data.size());
    }
    return out;
  }

  private double[][] images(int[] picked) {
    double[][] out = new double[picked.length][];
    for (int i = 0; i < picked.length; i++) {
      out[i] = data.images()[picked[i]];
    }
    return out;
  }

  private int[] trueLabels(int[] picked) {
    int[] out = new int[picked.length];
    for (int i = 0; i < picked.length; i++) {
      out[i] = data.labels()[picked[i]];
    }
    return out;
  }

  /**
   * The class labels of a step's first {@code rows} images, each replaced by "no label" ({@code NO_LABEL}) with
   * probability {@code labelDropout}, from its own counter-based stream (so the data order is the unconditional
   * run's).
   */
  private int[] labels(int[] picked, int rows, long step) {
    SampleRandom random = new SampleRandom(settings.seed() ^ 0x4c4142454cL, step, 2);
    int[] out = new int[rows];
    for (int i = 0; i < rows; i++) {
      boolean drop = random.nextDouble() < settings.labels().dropout();
      out[i] = drop ? io.fieldline.core.FieldModel.NO_LABEL : data.labels()[picked[i]];
    }
    return out;
  }

  /** Builder: {@code setX} required, {@code optX} optional. */
  public static final class Builder {
    private Dataset data;
    private TrainSettings settings;
    private Path runDir;
    private TrainingListener listener = new TrainingListener() {};
    private Path initFrom;

    private Builder() {}

    /** The training images. Required. */
    public Builder setData(Dataset data) {
      this.data = Objects.requireNonNull(data, "data");
      return this;
    }

    /** The settings. Required. */
    public Builder setSettings(TrainSettings settings) {
      this.settings = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /** The run directory (created; resumed if it holds a checkpoint). Required. */
    public Builder setRunDir(Path runDir) {
      this.runDir = Objects.requireNonNull(runDir, "runDir");
      return this;
    }

    /**
     * Warm start: a new run begins from the checkpoint of {@code sourceRunDir} (weights, EMA, Adam moments and its
     * step count, so the learning-rate warm-up and the EMA go on where they were), which must hold the same network,
     * kind and physics except for class conditioning; the parameters the source lacks (the label embedding) start at
     * zero, so the network starts as the source's. Its loss history is copied so the curve shows the whole training.
     * Ignored when the run directory already holds a checkpoint (a resume).
     */
    public Builder optInitFrom(Path sourceRunDir) {
      this.initFrom = Objects.requireNonNull(sourceRunDir, "sourceRunDir");
      return this;
    }

    /** Progress callbacks. */
    public Builder optListener(TrainingListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    public FieldTrainer build() {
      if (data == null || settings == null || runDir == null) {
        throw new IllegalStateException("FieldTrainer needs setData, setSettings and setRunDir");
      }
      if (data.size() < 1) {
        throw new IllegalArgumentException("no training images in " + data.source());
      }
      return new FieldTrainer(this);
    }
  }
}

package io.fieldline.cli;

import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.data.Datasets;
import io.fieldline.trainer.FieldTrainer;
import io.fieldline.trainer.RunInfo;
import io.fieldline.trainer.TrainSettings;
import io.fieldline.trainer.TrainingListener;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline train}: trains a field network; resumable. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Trains a PFGM or PFGM++ field network on the CPU (DJL, PyTorch engine) and writes a run directory: "
        + "run.json, checkpoint.bin, loss.csv, loss.png.",
        "Running it again on the same --out resumes from the last checkpoint with the same loss trajectory "
            + "(a larger --steps extends the run; other settings must match).",
        "Then: fieldline export RUN_DIR --out MODEL_DIR."},
    footer = {"", "Examples:",
        "  fieldline train --kind pfgmpp --D 128 --steps 20000 --out runs/fmnist-pfgmpp",
        "  fieldline train --kind pfgm --charges 1024 --steps 20000 --out runs/fmnist-pfgm",
        "  fieldline train --data toy:moons --kind pfgmpp --D 128 --steps 2000 --width 64 --out runs/moons",
        "  fieldline train --kind pfgmpp --labels --init-from models/runs/fmnist-pfgmpp-d128 --steps 20000 "
            + "--out runs/fmnist-cond"})
final class TrainCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--data", paramLabel = "PATH", defaultValue = "fashion-mnist",
      description = "Training images: fashion-mnist (Debian's dataset-fashion-mnist, 60,000 images), an IDX file "
          + "(plain or .gz), a folder of PNG/JPEG images, or a 2-D toy set: toy:moons, toy:gaussians, toy:swissroll, "
          + "toy:circles (--limit points, seed 0). Default: ${DEFAULT-VALUE}.")
  String data;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "60000",
      description = "Use at most the first N images. Default: ${DEFAULT-VALUE}.")
  int limit;

  @Option(names = "--channels", paramLabel = "1|3", defaultValue = "1",
      description = "Image folders only: grey (1) or RGB (3). Default: ${DEFAULT-VALUE}.")
  int channels;

  @Option(names = "--kind", paramLabel = "pfgm|pfgmpp", required = true,
      description = "PFGM (D = 1, field regression on a large batch of charges) or PFGM++ (EDM denoising with "
          + "p_r-kernel noise).")
  String kind;

  @Option(names = "--D", paramLabel = "D", description = "PFGM++ augmented dimensions (>= 2). Default: 128.")
  Double augmentedDimensions;

  @Option(names = {"-o", "--out"}, paramLabel = "RUN_DIR", required = true,
      description = "Run directory (created, or resumed if it holds a checkpoint).")
  Path out;

  @Option(names = "--steps", paramLabel = "N", description = "Total optimizer steps of the run. Default: 20000.")
  Long steps;

  @Option(names = "--batch", paramLabel = "B", description = "Images per step that get gradients. Default: 64.")
  Integer batch;

  @Option(names = "--charges", paramLabel = "B_L",
      description = "PFGM only: images per step whose exact field (computed in double) is the target. Default: 1024.")
  Integer charges;

  @Option(names = "--lr", paramLabel = "RATE", description = "Adam's learning rate after warm-up. Default: 2e-4 "
      + "(PFGM), 1e-3 (PFGM++).")
  Double learningRate;

  @Option(names = "--warmup", paramLabel = "STEPS", description = "Linear learning-rate warm-up. Default: 1000.")
  Long warmup;

  @Option(names = "--ema", paramLabel = "DECAY", description = "EMA decay of the exported weights. Default: 0.999.")
  Double ema;

  @Option(names = "--clip", paramLabel = "NORM", description = "Global gradient-norm clip, 0 = off. Default: 1 "
      + "(PFGM), 0 (PFGM++).")
  Double clip;

  @Option(names = "--seed", paramLabel = "S", description = "Seeds initialization, data order and noise. Default: 0.")
  Long seed;

  @Option(names = "--width", paramLabel = "C", description = "Channels of the first U-Net level (the other levels "
      + "are multiples of it, see --levels), a multiple of 8. Default: 32.")
  Integer width;

  @Option(names = "--levels", paramLabel = "M,M,...", split = ",", description = "Channel multipliers of --width, "
      + "one per U-Net level; each level after the first halves the resolution, so the image sides must divide by "
      + "2^(levels - 1); 1 to 5 levels, multipliers 1..16. Default: 1,2,2 (28, 14 and 7 pixels for Fashion-MNIST; "
      + "32/64/64 channels); 1 for 2-D points.")
  int[] levels;

  @Option(names = "--blocks", paramLabel = "N", description = "Residual blocks per level, 1..8 (the decoder has one "
      + "more per level). Default: 1 for images, 2 for 2-D points.")
  Integer blocks;

  @Option(names = "--attention", description = "Add a self-attention block at the lowest resolution (after the "
      + "middle residual block). Its cost grows with the square of the pixels there (49 for 28x28 over three levels).")
  boolean attention;

  @Option(names = "--z-exp", paramLabel = "Z", description = "PFGM only: the sampler's z_exp recorded in the "
      + "model (0 = off). Default: 0.")
  Double zExp;

  @Option(names = "--checkpoint-every", paramLabel = "STEPS", description = "Steps between checkpoints and loss "
      + "plots. Default: 500.")
  Long checkpointEvery;

  @Option(names = "--labels", negatable = true, description = "Condition the network on the data's class labels "
      + "(Fashion-MNIST's label file next to its images, an image folder's class subfolders, the toy sets' modes), so "
      + "requests can ask for a class. Default: on for new runs on labelled data; a resumed run keeps what it "
      + "was started with. --no-labels trains an unconditional network.")
  Boolean labels;

  @Option(names = "--label-dropout", paramLabel = "P", description = "Share of rows trained with \"no label\", so one "
      + "network learns the conditional and the unconditional field (classifier-free guidance). Default: 0.1.")
  Double labelDropout;

  @Option(names = "--init-from", paramLabel = "RUN_DIR", description = "Start a new run from another run's "
      + "checkpoint (weights, EMA, optimizer state and step count) instead of from scratch; the network must be the "
      + "same except for class labels, which start with a zero embedding, so training done is kept.")
  Path initFrom;

  @Option(names = "--no-progress", description = "Do not draw the progress bar; print a line per checkpoint instead.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    String k = kind.toLowerCase(Locale.ROOT).replace("++", "pp");
    if (!k.equals("pfgm") && !k.equals("pfgmpp")) {
      throw new Fieldline.UsageException("unknown --kind '" + kind + "' (expected pfgm or pfgmpp)");
    }
    TrainSettings d = TrainSettings.defaults(k);
    TrainSettings settings = new TrainSettings(k, k.equals("pfgm") ? 1 : or(augmentedDimensions, d.augmentedDimensions()),
        or(steps, d.steps()), or(batch, d.batch()), k.equals("pfgm") ? or(charges, d.charges()) : or(batch, d.batch()),
        or(learningRate, d.learningRate()), or(warmup, d.warmup()), or(ema, d.emaDecay()), or(clip, d.clip()),
        or(seed, d.seed()), or(width, d.width()), or(zExp, d.zExp()), or(checkpointEvery, d.checkpointEvery()),
        levels == null && blocks == null && !attention ? null
            : new TrainSettings.Architecture(levels, blocks == null ? 0 : blocks, attention), null);
    if (k.equals("pfgm") && augmentedDimensions != null && augmentedDimensions != 1) {
      throw new Fieldline.UsageException("--D is for --kind pfgmpp (PFGM has D = 1)");
    }
    Dataset images = Datasets.load(data, limit, channels);
    settings = settings.withLabels(labelsFor(settings, images));
    stdout.printf(Locale.ROOT, "training %s on %d images of %s from %s into %s%s%n", k, images.size(), images.shape(),
        images.source(), out, settings.conditional() ? ", conditioned on " + images.classes().size() + " classes "
            + images.classes() : "");
    stdout.flush();
    ProgressBar bar = new ProgressBar(System.err, "steps", settings.steps(), !noProgress, System::nanoTime);
    FieldTrainer.Builder trainer = FieldTrainer.builder().setData(images).setSettings(settings).setRunDir(out);
    if (initFrom != null) {
      trainer.optInitFrom(initFrom);
    }
    RunInfo info = trainer
        .optListener(new TrainingListener() {
          @Override
          public void onStep(long step, long total, double loss, double gradNorm, double lr) {
            bar.update(step, String.format(Locale.ROOT, "loss %.4g  lr %.2g", loss, lr));
          }

          @Override
          public void onCheckpoint(long step, Path checkpoint) {
            if (noProgress) {
              stdout.printf(Locale.ROOT, "checkpoint at step %d: %s%n", step, checkpoint);
              stdout.flush();
            }
          }
        }).build().train();
    stdout.printf(Locale.ROOT, "done: %d steps, %d parameters; loss curve %s; next: fieldline export %s --out "
        + "MODEL_DIR%n", settings.steps(), info.parameters(), out.resolve("loss.png"), out);
    return 0;
  }

  /**
   * Whether the run is class-conditional: as flagged; else as the run being resumed was started; else on for labelled
   * data (both families).
   */
  private TrainSettings.Labels labelsFor(TrainSettings settings, Dataset images) {
    double dropout = or(labelDropout, TrainSettings.DEFAULT_LABEL_DROPOUT);
    boolean on;
    if (labels != null) {
      on = labels;
    } else if (java.nio.file.Files.exists(out.resolve(RunInfo.FILE))) {
      TrainSettings.Labels existing = RunInfo.read(out).settings().labels();
      on = existing != null;
      dropout = labelDropout == null && existing != null ? existing.dropout() : dropout;
    } else {
      on = images.labelled();
    }
    if (!on) {
      if (labelDropout != null) {
        throw new Fieldline.UsageException("--label-dropout is for class-conditional runs (--labels)");
      }
      return null;
    }
    if (!images.labelled()) {
      throw new Fieldline.UsageException(images.source() + " has no class labels (an IDX file needs its labels-idx1 "
          + "sibling, an image folder one subfolder per class); use --no-labels");
    }
    try {
      return new TrainSettings.Labels(images.classes(), dropout);
    } catch (IllegalArgumentException e) {
      throw new Fieldline.UsageException(e.getMessage());
    }
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }
}

package io.fieldline.server;

import io.fieldline.core.ExactField;
import io.fieldline.core.FieldModel;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.data.DatasetException;
import io.fieldline.core.data.Datasets;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Turns a model specification into a {@link FieldModel}.
 *
 * <p>Specifications:
 * <ul>
 *   <li>{@code exact:fashion-mnist}: the exact empirical field of the first {@code exactSize} Fashion-MNIST training
 *       images (Debian's {@code dataset-fashion-mnist}).</li>
 *   <li>{@code exact:PATH}: the same for an IDX file (plain or gzip) or a folder of PNG/JPEG images.</li>
 *   <li>a bundle directory ({@code model.json} + {@code field.onnx}): a trained network, verified and run by ONNX
 *       Runtime ({@link OnnxFieldModel}).</li>
 * </ul>
 * Exact fields are PFGM (D = 1) with the constants {@code hyper-parameters.py} recommends for the data's average norm,
 * or PFGM++ with D augmented dimensions and EDM's constants.
 */
public final class ModelLoader {
  /** The name that resolves to Debian's Fashion-MNIST training set. */
  public static final String FASHION_MNIST = "fashion-mnist";
  /** The default model of the command line and the demo. */
  public static final String DEFAULT_MODEL = "exact:" + FASHION_MNIST;
  /** How many Fashion-MNIST training images (the first ones) ship inside this jar. */
  public static final int BUNDLED_FASHION_MNIST = 1024;
  /** Fashion-MNIST (c) 2017 Zalando SE, MIT licence; see docs/NOTICE.md. */
  static final String BUNDLED_RESOURCE = "fashion-mnist-train-1024.idx.gz";
  static final String BUNDLED_LABELS = "fashion-mnist-train-labels-1024.idx.gz";

  private final int exactSize;
  private final boolean pfgmpp;
  private final double augmentedDimensions;
  private final int channels;
  private final ExecutionDevice device;
  private final int threadsPerModel;

  private ModelLoader(Builder b) {
    this.threadsPerModel = b.threadsPerModel;
    this.exactSize = b.exactSize;
    this.pfgmpp = b.pfgmpp;
    this.augmentedDimensions = b.augmentedDimensions;
    this.channels = b.channels;
    this.device = ExecutionDevice.parse(b.device, b.tensorRtCache);
  }

  /**
   * The default number of engines for a device: one per core on the CPU (each with a single-threaded model), one on a
   * GPU. Measured on 2 cores (docs/BENCHMARKS.md): two single-threaded engines make 1.14x the images per second of one
   * engine whose model spans both cores (1.19x inside the pipeline), because a parallel forward pass stalls whenever
   * Kafka, the JIT or the garbage collector takes a core.
   */
  public static int workersFor(String device) {
    return device == null || device.toLowerCase(Locale.ROOT).startsWith("cpu")
        ? Runtime.getRuntime().availableProcessors() : 1;
  }

  /** The engines of a pool: {@code requested} when positive (a --workers flag), else {@link #workersFor(String)}. */
  public static int workersFor(String device, int requested) {
    return requested > 0 ? requested : workersFor(device);
  }

  /** A new builder; every setting is optional. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Loads {@code copies} independent instances of a model, one per engine of a pool (closing those already loaded if
   * one fails).
   *
   * @throws ModelException as {@link #load}
   */
  public java.util.List<FieldModel> loadCopies(String spec, int copies) {
    java.util.List<FieldModel> out = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < copies; i++) {
        out.add(load(spec));
      }
      return out;
    } catch (RuntimeException e) {
      out.forEach(FieldModel::close);
      throw e;
    }
  }

  /**
   * Loads a model.
   *
   * @throws ModelException with a one-line reason if the specification names nothing usable
   */
  public FieldModel load(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new ModelException("no model given (expected exact:<data> or a model bundle directory)");
    }
    if (spec.startsWith("exact:")) {
      return exact(spec.substring("exact:".length()));
    }
    Path dir = Path.of(spec);
    if (Files.isDirectory(dir) && Files.exists(dir.resolve(ModelBundle.METADATA))) {
      return OnnxFieldModel.load(dir, device, threadsPerModel);
    }
    if (!Files.exists(dir)) {
      throw new ModelException("model not found: " + spec + " (expected exact:<data> or a model bundle directory)");
    }
    throw new ModelException(spec + " is not a model bundle (no model.json); for a data set write exact:" + spec);
  }

  private FieldModel exact(String source) {
    if (source.isBlank()) {
      throw new ModelException("exact: needs a data set, e.g. exact:fashion-mnist or exact:/data/train-images.gz");
    }
    Dataset data;
    try {
      data = source.equals(FASHION_MNIST) ? fashionMnist() : Datasets.load(source, exactSize, channels);
    } catch (DatasetException e) {
      throw new ModelException(e.getMessage(), e);
    }
    int n = data.shape().size();
    Physics physics = pfgmpp
        ? PfgmppPhysics.edmDefaults(n, augmentedDimensions)
        : PfgmPhysics.recommended(n, data.averageNorm());
    String name = String.format(Locale.ROOT, "exact:%s[%d]%s", source, data.size(),
        pfgmpp ? "/pfgm++(D=" + (Double.isInfinite(augmentedDimensions) ? "inf" : fmt(augmentedDimensions)) + ")" : "");
    ExactField.Builder field = ExactField.builder().setData(data.images()).setPhysics(physics).setShape(data.shape())
        .optName(name).optParallel(threadsPerModel != 1);
    // Labelled data makes the exact field class-conditional, when every class has a charge among the images used.
    if (data.labelled() && java.util.Arrays.stream(data.labels()).distinct().count() == data.classes().size()) {
      field.optLabels(data.labels(), data.classes());
    }
    return field.build();
  }

  /**
   * The first {@code exactSize} Fashion-MNIST training images: from Debian's package when installed, otherwise from
   * the copy of the first {@value #BUNDLED_FASHION_MNIST} images bundled in this jar (the same images, so the same
   * model either way).
   */
  private Dataset fashionMnist() {
    if (Files.exists(Datasets.fashionMnistTrain())) {
      return Datasets.load(Datasets.fashionMnistTrain(), exactSize, 1);
    }
    if (exactSize > BUNDLED_FASHION_MNIST) {
      throw new ModelException("exact:fashion-mnist with more than " + BUNDLED_FASHION_MNIST + " images needs "
          + "Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist)");
    }
    try (InputStream in = ModelLoader.class.getResourceAsStream(BUNDLED_RESOURCE)) {
      if (in == null) {
        throw new ModelException("the bundled Fashion-MNIST subset is missing from the jar: " + BUNDLED_RESOURCE);
      }
      Dataset images = Datasets.readIdx(in, "bundled fashion-mnist", exactSize);
      try (InputStream labels = ModelLoader.class.getResourceAsStream(BUNDLED_LABELS)) {
        if (labels == null) {
          throw new ModelException("the bundled Fashion-MNIST labels are missing from the jar: " + BUNDLED_LABELS);
        }
        return images.withLabels(Datasets.readLabels(labels, BUNDLED_LABELS, images.size()),
            Datasets.FASHION_MNIST_CLASSES);
      }
    } catch (IOException e) {
      throw new ModelException("cannot read the bundled Fashion-MNIST subset: " + e.getMessage(), e);
    }
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  /** Builder: every setting is optional ({@code optX}). */
  public static final class Builder {
    private int exactSize = 256;
    private boolean pfgmpp;
    private double augmentedDimensions = 128;
    private int channels = 1;
    private String device = "cpu";
    private Path tensorRtCache;
    private int threadsPerModel;

    private Builder() {}

    /**
     * Threads one model uses per forward pass on the CPU: 0 (default) lets the runtime use every core; 1 suits a pool
     * of engines that each own a core (see {@link #workersFor}).
     */
    public Builder optThreadsPerModel(int threadsPerModel) {
      if (threadsPerModel < 0) {
        throw new IllegalArgumentException("threads per model must be >= 0, got " + threadsPerModel);
      }
      this.threadsPerModel = threadsPerModel;
      return this;
    }

    /**
     * Sizes each model for a pool of {@code engines}: a lone engine's model uses every core, several engines' models
     * one thread each ({@link #optThreadsPerModel} 0 or 1).
     */
    public Builder optEngines(int engines) {
      return optThreadsPerModel(engines > 1 ? 1 : 0);
    }

    /** The device bundles run on: {@code cpu} (default), {@code cuda[:N]} or {@code tensorrt[:N]}. */
    public Builder optDevice(String device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /**
     * TensorRT's engine cache directory (created on first load): engines built for a network are saved there and
     * reused by the next start on the same GPU. For {@code tensorrt} devices only; null (default) means no cache.
     */
    public Builder optTensorRtCache(Path tensorRtCache) {
      this.tensorRtCache = tensorRtCache;
      return this;
    }

    /** How many data images an exact field uses (the first ones), 1..100,000. Default 256. */
    public Builder optExactSize(int exactSize) {
      if (exactSize < 1 || exactSize > 100_000) {
        throw new IllegalArgumentException("exact size must be in 1..100000, got " + exactSize);
      }
      this.exactSize = exactSize;
      return this;
    }

    /** Exact fields as PFGM++ with D augmented dimensions (D >= 1, or infinity) instead of PFGM. */
    public Builder optPfgmpp(double augmentedDimensions) {
      if (Double.isNaN(augmentedDimensions) || augmentedDimensions < 1) {
        throw new IllegalArgumentException("D must be >= 1 (or inf), got " + augmentedDimensions);
      }
      this.pfgmpp = true;
      this.augmentedDimensions = augmentedDimensions;
      return this;
    }

    /** Channels to read image folders as: 1 (grey, default) or 3 (RGB). */
    public Builder optChannels(int channels) {
      if (channels != 1 && channels != 3) {
        throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
      }
      this.channels = channels;
      return this;
    }

    /**
     * Builds the loader.
     *
     * @throws ModelException when the device cannot be parsed or a TensorRT cache is given for another device
     */
    public ModelLoader build() {
      return new ModelLoader(this);
    }
  }
}

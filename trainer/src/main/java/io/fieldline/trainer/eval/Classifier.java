package io.fieldline.trainer.eval;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.fieldline.core.ImageShape;
import io.fieldline.core.SampleRandom;
import io.fieldline.core.data.Dataset;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.ModelException;
import io.fieldline.trainer.internal.ClassifierNet;
import io.fieldline.trainer.internal.Networks;
import io.fieldline.trainer.internal.Optimizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongConsumer;

/**
 * The feature extractor of Fieldline's quality metric: a small CNN trained on the training images and labels,
 * exported to ONNX ({@code classifier.onnx}, with {@code classifier.json}: test accuracy, feature width, SHA-256) and
 * run by ONNX Runtime. Its penultimate layer (128 ReLU features) is the space where Frechet distances and
 * precision/recall are measured: a metric of this project, named for what it is, not FID.
 */
public final class Classifier implements AutoCloseable {
  /** Files of a classifier directory. */
  public static final String WEIGHTS = "classifier.onnx";
  public static final String METADATA = "classifier.json";
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();
  private static final int FEATURES = 128;

  /**
   * What {@code classifier.json} says.
   *
   * @param shape input image shape
   * @param features feature width
   * @param classes number of classes
   * @param testAccuracy accuracy on the test set, in [0, 1]
   * @param data training data source
   * @param steps training steps
   * @param sha256 SHA-256 of classifier.onnx
   */
  public record Info(ImageShape shape, int features, int classes, double testAccuracy, String data, long steps,
      String sha256) {}

  private final Info info;
  private final ZooModel<NDList, NDList> model;
  private final Predictor<NDList, NDList> predictor;

  private Classifier(Info info, ZooModel<NDList, NDList> model) {
    this.info = info;
    this.model = model;
    this.predictor = model.newPredictor();
  }

  public Info info() {
    return info;
  }

  /** Loads and verifies a classifier directory. */
  public static Classifier load(Path dir) {
    Path meta = dir.resolve(METADATA);
    if (!Files.isRegularFile(meta) || !Files.isRegularFile(dir.resolve(WEIGHTS))) {
      throw new ModelException(dir + " is not a classifier directory (" + METADATA + " and " + WEIGHTS
          + " expected; make one with fieldline classifier --out " + dir + ")");
    }
    Info info;
    try {
      info = GSON.fromJson(Files.readString(meta, StandardCharsets.UTF_8), Info.class);
    } catch (IOException | RuntimeException e) {
      throw new ModelException("cannot read " + meta + ": " + e.getMessage(), e);
    }
    String actual = ModelBundle.sha256(dir.resolve(WEIGHTS));
    if (!actual.equals(info.sha256())) {
      throw new ModelException("classifier " + dir + " is corrupt: " + WEIGHTS + " has SHA-256 " + actual);
    }
    try {
      return new Classifier(info, Criteria.builder().setTypes(NDList.class, NDList.class)
          .optModelPath(dir.resolve(WEIGHTS)).optEngine("OnnxRuntime").optDevice(Device.cpu())
          .optTranslator(new NoopTranslator()).build().loadModel());
    } catch (ModelNotFoundException | MalformedModelException | IOException e) {
      throw new ModelException("cannot load " + dir.resolve(WEIGHTS) + ": " + e.getMessage(), e);
    }
  }

  /** Features of images given as [-1, 1] vectors. */
  public double[][] features(double[][] images) {
    return run(images, 0, info.features());
  }

  /** Class predictions (argmax of the logits). */
  public int[] predict(double[][] images) {
    double[][] logits = run(images, 1, info.classes());
    int[] labels = new int[images.length];
    for (int i = 0; i < logits.length; i++) {
      for (int c = 1; c < info.classes(); c++) {
        if (logits[i][c] > logits[i][labels[i]]) {
          labels[i] = c;
        }
      }
    }
    return labels;
  }

  /** One output of the network for all images, in batches of 256. */
  private double[][] run(double[][] images, int output, int width) {
    int n = info.shape().size();
    double[][] out = new double[images.length][];
    for (int start = 0; start < images.length; start += 256) {
      int count = Math.min(256, images.length - start);
      float[] flat = new float[count * n];
      for (int i = 0; i < count; i++) {
        for (int k = 0; k < n; k++) {
          flat[i * n + k] = (float) images[start + i][k];
        }
      }
      try (NDManager m = model.getNDManager().newSubManager()) {
        NDArray x = m.create(flat, new Shape(count, n));
        x.setName("x");
        float[] values = predictor.predict(new NDList(x)).get(output).toFloatArray();
        for (int i = 0; i < count; i++) {
          double[] row = new double[width];
          for (int k = 0; k < width; k++) {
            row[k] = values[i * width + k];
          }
          out[start + i] = row;
        }
      } catch (TranslateException e) {
        throw new IllegalStateException("classifier failed: " + e.getMessage(), e);
      }
    }
    return out;
  }

  @Override
  public void close() {
    predictor.close();
    model.close();
  }

  /**
   * Trains the classifier (Adam, lr 1e-3, batch 128, cross-entropy) on the PyTorch engine, exports it to
   * {@code out}, and measures its test accuracy through ONNX Runtime.
   *
   * @param progress called with each finished step
   */
  public static Info train(Dataset train, int[] labels, Dataset test, int[] testLabels, int classes, long steps,
      long seed, Path out, LongConsumer progress) throws IOException {
    if (labels.length != train.size() || testLabels.length != test.size()) {
      throw new IllegalArgumentException("images and labels differ in number");
    }
    ImageShape shape = train.shape();
    int n = shape.size();
    int batch = 128;
    Files.createDirectories(out);
    try (NDManager manager = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      Engine.getEngine(Networks.ENGINE).setRandomSeed((int) seed);
      ClassifierNet net = new ClassifierNet(shape, FEATURES, classes);
      net.setInitializer(new XavierInitializer(XavierInitializer.RandomType.UNIFORM,
          XavierInitializer.FactorType.IN, 1f), Parameter.Type.WEIGHT);
      net.initialize(manager, DataType.FLOAT32, new Shape(1, n));
      ParameterStore store = new ParameterStore(manager, false);
      Engine engine = Engine.getEngine(Networks.ENGINE);
      try (Optimizer optimizer = new Optimizer(net.getParameters(), manager, 0.9f, 0.999f, 1e-8f)) {
        for (long step = 1; step <= steps; step++) {
          SampleRandom random = new SampleRandom(seed, step, 2);
          float[] x = new float[batch * n];
          float[] onehot = new float[batch * classes];
          for (int i = 0; i < batch; i++) {
            int j = (int) (random.nextDouble() * train.size());
            for (int k = 0; k < n; k++) {
              x[i * n + k] = (float) train.images()[j][k];
            }
            onehot[i * classes + labels[j]] = 1f;
          }
          try (NDManager scope = manager.newSubManager()) {
            NDArray xs = scope.create(x, new Shape(batch, n));
            NDArray ys = scope.create(onehot, new Shape(batch, classes));
            try (GradientCollector collector = engine.newGradientCollector()) {
              NDArray logits = net.forward(store, new NDList(xs), true).get(1);
              NDArray loss = logits.logSoftmax(1).mul(ys).sum(new int[] {1}).mean().neg();
              collector.backward(loss);
            }
            optimizer.step(scope, step, 1e-3, 0, 0);
          }
          progress.accept(step);
        }
      }
      Files.write(out.resolve(WEIGHTS), net.export().model("1", "Fieldline feature classifier").toByteArray());
    }
    Info provisional = new Info(shape, FEATURES, classes, 0, train.source(), steps,
        ModelBundle.sha256(out.resolve(WEIGHTS)));
    Files.writeString(out.resolve(METADATA), GSON.toJson(provisional));
    double accuracy;
    try (Classifier c = load(out)) {
      int[] predicted = c.predict(test.images());
      int right = 0;
      for (int i = 0; i < predicted.length; i++) {
        right += predicted[i] == testLabels[i] ? 1 : 0;
      }
      accuracy = (double) right / predicted.length;
    }
    Info info = new Info(shape, FEATURES, classes, accuracy, train.source(), steps, provisional.sha256());
    Files.writeString(out.resolve(METADATA), GSON.toJson(info));
    return info;
  }
}

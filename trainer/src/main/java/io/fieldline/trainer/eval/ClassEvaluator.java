package io.fieldline.trainer.eval;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.Dataset;
import io.fieldline.core.engine.SampleResult;
import io.fieldline.core.engine.SampleStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * How useful a class-conditional model's images are as labelled training data, next to the distribution measures:
 * <ul>
 *   <li>FD and its floor as {@link Evaluator} computes them, for n images with classes cycled over the indices
 *       (balanced, as the test set is);</li>
 *   <li>per-class FD: the mean over classes of FD(generated images of class c, test images of class c), with its
 *       floor (training vs test images of each class): does each class look like itself;</li>
 *   <li>fidelity: the share of images the feature classifier files under the class they were asked for;</li>
 *   <li>Classification Accuracy Score (CAS): the project's classifier trained on N generated images (balanced over
 *       classes) and tested on the whole real test set, next to the same classifier trained on the first N real
 *       training images with the same steps and seed; their ratio says how much of real data's use the images
 *       have.</li>
 * </ul>
 * Images are (seed 0, index i, class i mod K), quantized to 8 bits as users receive them.
 */
public final class ClassEvaluator {
  /** Classifier steps of a CAS training (Adam, batch 128), real or generated alike. */
  public static final long CAS_STEPS = 1500;
  private static final long CAS_SEED = 17;

  private ClassEvaluator() {}

  /**
   * One row.
   *
   * @param model the model's name
   * @param sampler the sampler's description (guidance included)
   * @param guidance the guidance weight
   * @param n images measured for FD and fidelity
   * @param nfe mean evaluations per image
   * @param fd FD of all n images against the first n test images
   * @param floor FD of the first n training images against the same test images
   * @param classFd mean per-class FD
   * @param classFloor mean per-class floor
   * @param fidelity share classified as their requested class
   * @param casN generated images the CAS classifier trained on (0: CAS not measured)
   * @param cas its accuracy on the real test set
   * @param casReal the same classifier's accuracy when trained on casN real images
   */
  public record Report(String model, String sampler, double guidance, int n, double nfe, double fd, double floor,
      double classFd, double classFloor, double fidelity, int casN, double cas, double casReal) {
    /** The header of {@link #markdownRow()}'s table (two lines). */
    public static final String MARKDOWN_HEADER = "| model | sampler | guidance | n | NFE | FD | FD/floor | class FD "
        + "| class FD/floor | fidelity | CAS (N) | CAS/real |\n|---|---|---|---|---|---|---|---|---|---|---|---|";

    /** A markdown row for the card and docs/QUALITY.md. */
    public String markdownRow() {
      String casCells = casN == 0 ? "- | -" : String.format(Locale.ROOT, "%.4f (%d) | %.3f", cas, casN, cas / casReal);
      return String.format(Locale.ROOT, "| %s | %s | %s | %d | %.1f | %.2f | %.2f | %.2f | %.2f | %.3f | %s |", model,
          sampler, compact(guidance), n, nfe, fd, fd / floor, classFd, classFd / classFloor, fidelity, casCells);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s, %s: NFE %.1f, FD %.3f (%.2fx floor), per-class FD %.3f (%.2fx floor), "
              + "fidelity %.3f%s", model, sampler, nfe, fd, fd / floor, classFd, classFd / classFloor, fidelity,
          casN == 0 ? "" : String.format(Locale.ROOT, ", CAS %.4f at N = %d (real data %.4f, ratio %.3f)", cas, casN,
              casReal, cas / casReal));
    }
  }

  private static String compact(double v) {
    return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
  }

  /**
   * Measures one sampler setting.
   *
   * @param copies model copies, one engine each (the images do not depend on how many)
   * @param settings the sampler, guidance included
   * @param n images for FD and fidelity (10..the test images given)
   * @param features the feature classifier (also the fidelity judge)
   * @param train labelled training images (at least n; the floor and the real CAS baseline use their first ones)
   * @param test labelled test images (the FD uses the first n, CAS all)
   * @param casN images for CAS, 0 for none
   * @param casReal the real-data CAS baseline for casN ({@link #realCas}); ignored when casN is 0
   * @param batch engine batch size
   * @param progress sees each finished sample
   */
  public static Report evaluate(List<? extends FieldModel> copies, SamplerSettings settings, int n,
      Classifier features, Dataset train, Dataset test, int casN, double casReal, int batch, LongConsumer progress)
      throws InterruptedException, IOException {
    FieldModel model = copies.get(0);
    int classes = model.classes().size();
    if (classes == 0) {
      throw new IllegalArgumentException(model.name() + " is unconditional: class measures need a conditional model");
    }
    if (!train.labelled() || !test.labelled()) {
      throw new IllegalArgumentException("class measures need labelled training and test images");
    }
    if (classes != features.info().classes() || !model.classes().equals(test.classes())) {
      // The classifier's outputs are the test set's class indices: the model's classes must be the same, in order.
      throw new IllegalArgumentException(model.name() + "'s classes " + model.classes() + " are not the evaluation "
          + "data's " + test.classes() + " (the same names in the same order)");
    }
    if (n < 10 || n > test.size() || n > train.size() || casN < 0 || casN > train.size()) {
      throw new IllegalArgumentException("n must be in 10.." + Math.min(test.size(), train.size()) + " and --cas in 0.."
          + train.size() + ", got " + n + " and " + casN);
    }
    int count = Math.max(n, casN);
    double[][] generated = new double[count][];
    int[] labels = new int[count];
    long nfe = 0;
    for (SampleResult r : Flows.sampleAll(copies, settings, "eval", 0, i -> i % classes, count, batch,
        progress::accept)) {
      if (r.status() != SampleStatus.COMPLETED) {
        throw new IllegalStateException("sample " + r.task().index() + " " + r.status() + ": " + r.message());
      }
      int i = (int) r.task().index();
      generated[i] = Evaluator.quantize(r.x());
      labels[i] = r.task().label();
      nfe += r.nfe();
    }
    double[][] gen = features.features(Arrays.copyOf(generated, n));
    double[][] testF = features.features(Arrays.copyOf(test.images(), n));
    double[][] trainF = features.features(Arrays.copyOf(train.images(), n));
    int[] predicted = features.predict(Arrays.copyOf(generated, n));
    int right = 0;
    for (int i = 0; i < n; i++) {
      right += predicted[i] == labels[i] ? 1 : 0;
    }
    double classFd = 0;
    double classFloor = 0;
    for (int c = 0; c < classes; c++) {
      double[][] g = rowsOf(gen, Arrays.copyOf(labels, n), c);
      double[][] t = rowsOf(testF, test.labels(), c);
      double[][] tr = rowsOf(trainF, train.labels(), c);
      classFd += Metrics.frechetDistance(g, t) / classes;
      classFloor += Metrics.frechetDistance(tr, t) / classes;
    }
    double cas = 0;
    if (casN > 0) {
      Dataset synthetic = new Dataset("generated", model.shape(), Arrays.copyOf(generated, casN),
          Arrays.copyOf(labels, casN), model.classes());
      cas = casAccuracy(synthetic, test);
    }
    return new Report(model.name(), settings.describe(), settings.guidance(), n, (double) nfe / count,
        Metrics.frechetDistance(gen, testF), Metrics.frechetDistance(trainF, testF), classFd, classFloor,
        (double) right / n, casN, cas, casReal);
  }

  /** The CAS baseline: the classifier trained on the first {@code casN} real training images, on the test set. */
  public static double realCas(Dataset train, Dataset test, int casN) throws IOException {
    return casAccuracy(new Dataset(train.source(), train.shape(), Arrays.copyOf(train.images(), casN),
        Arrays.copyOf(train.labels(), casN), train.classes()), test);
  }

  /** Trains the project's classifier on {@code data} ({@value #CAS_STEPS} steps) and returns its test accuracy. */
  static double casAccuracy(Dataset data, Dataset test) throws IOException {
    Path dir = Files.createTempDirectory("fieldline-cas");
    try {
      return Classifier.train(data, data.labels(), test, test.labels(), data.classes().size(), CAS_STEPS, CAS_SEED,
          dir, step -> { }).testAccuracy();
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static double[][] rowsOf(double[][] rows, int[] labels, int c) {
    List<double[]> out = new ArrayList<>();
    for (int i = 0; i < rows.length; i++) {
      if (labels[i] == c) {
        out.add(rows[i]);
      }
    }
    return out.toArray(new double[0][]);
  }
}

package io.fieldline.trainer.eval;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.engine.SampleResult;
import io.fieldline.core.engine.SampleStatus;
import io.fieldline.core.data.Dataset;
import io.fieldline.server.Pixels;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * Measures a model's samples against held-out images in the classifier's feature space: Frechet distance (FD),
 * the floor (training vs test images through the same features: what a perfect generator of the training
 * distribution would score with this many images), and k-NN precision/recall. Samples are images (seed 0, indices
 * 0..n-1) quantized to 8 bits exactly as users receive them.
 */
public final class Evaluator {
  private Evaluator() {}

  /**
   * One evaluation.
   *
   * @param model the model's name
   * @param sampler the sampler's description
   * @param n images per set
   * @param nfe mean field evaluations per image
   * @param fd Frechet distance, generated vs test
   * @param floor Frechet distance, training vs test images
   * @param precision share of generated images on the test manifold
   * @param recall share of test images on the generated manifold
   * @param imagesPerSecond generation speed during the evaluation (machine-specific)
   * @param classifierAccuracy the feature classifier's test accuracy
   */
  public record Report(String model, String sampler, int n, double nfe, double fd, double floor, double precision,
      double recall, double imagesPerSecond, double classifierAccuracy) {
    /** The header of {@link #markdownRow()}'s table (two lines). */
    public static final String MARKDOWN_HEADER = "| model | sampler | n | NFE | FD | floor | FD/floor | precision "
        + "| recall |\n|---|---|---|---|---|---|---|---|---|";

    /** A markdown table row: model | sampler | n | NFE | FD | floor | FD/floor | precision | recall. */
    public String markdownRow() {
      return String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.2f | %.2f | %.2f | %.3f | %.3f |", model, sampler, n,
          nfe, fd, floor, fd / floor, precision, recall);
    }

    /**
     * Reads a {@link #markdownRow()} back (speed and classifier accuracy are not in the row: NaN).
     *
     * @return the report, or null when the line is not such a row (a header, a rule, other text)
     */
    public static Report parseRow(String line) {
      String t = line.trim();
      if (!t.startsWith("|") || !t.endsWith("|")) {
        return null;
      }
      String[] cells = t.substring(1, t.length() - 1).split("\\|", -1);
      if (cells.length != 9) {
        return null;
      }
      try {
        double[] v = new double[cells.length];
        for (int i = 3; i < cells.length; i++) {
          v[i] = Double.parseDouble(cells[i].trim());
        }
        // cells[6] is FD/floor, derived; speed and classifier accuracy are not in the row.
        return new Report(cells[0].trim(), cells[1].trim(), Integer.parseInt(cells[2].trim()), v[3], v[4], v[5], v[7],
            v[8], Double.NaN, Double.NaN);
      } catch (NumberFormatException e) {
        return null;
      }
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s, %s: NFE %.1f, FD %.3f (floor %.3f, ratio %.2f), precision %.3f, recall "
              + "%.3f, n = %d, %.1f images/s; classifier test accuracy %.4f", model, sampler, nfe, fd, floor,
          fd / floor, precision, recall, n, imagesPerSecond, classifierAccuracy);
    }
  }

  /**
   * Generates n samples with one engine per model copy (the samples do not depend on how many), then measures them;
   * {@code progress} sees each finished sample.
   */
  public static Report evaluate(java.util.List<? extends FieldModel> copies, SamplerSettings settings, int n,
      Classifier classifier, Dataset train, Dataset test, int batch, LongConsumer progress)
      throws InterruptedException {
    FieldModel model = copies.get(0);
    if (n < 10 || n > test.size() || n > train.size()) {
      throw new IllegalArgumentException("n must be in 10.." + Math.min(test.size(), train.size()) + ", got " + n);
    }
    if (!model.shape().equals(classifier.info().shape())) {
      throw new IllegalArgumentException("the model makes " + model.shape() + " images, the classifier reads "
          + classifier.info().shape());
    }
    double[][] generated = new double[n][];
    long nfe = 0;
    long start = System.nanoTime();
    for (SampleResult r : Flows.sampleAll(copies, settings, "eval", 0, n, batch, progress::accept)) {
      if (r.status() != SampleStatus.COMPLETED) {
        throw new IllegalStateException("sample " + r.task().index() + " " + r.status() + ": " + r.message());
      }
      generated[(int) r.task().index()] = quantize(r.x());
      nfe += r.nfe();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double[][] gen = classifier.features(generated);
    double[][] testF = classifier.features(Arrays.copyOf(test.images(), n));
    double[][] trainF = classifier.features(Arrays.copyOf(train.images(), n));
    double[] pr = Metrics.precisionRecall(testF, gen, 3);
    return new Report(model.name(), settings.describe(), n, (double) nfe / n, Metrics.frechetDistance(gen, testF),
        Metrics.frechetDistance(trainF, testF), pr[0], pr[1], n / seconds, classifier.info().testAccuracy());
  }

  /** An image as users receive it: rounded to 8-bit pixels, back in [-1, 1]. */
  static double[] quantize(double[] x) {
    double[] q = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      q[i] = Pixels.toByte(x[i]) / 127.5 - 1;
    }
    return q;
  }
}

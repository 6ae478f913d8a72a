package io.fieldline.core.data;

import io.fieldline.core.ImageShape;
import java.util.List;
import java.util.Objects;

/**
 * Images as vectors in [-1, 1] (pixel / 127.5 - 1), channels-first, all of one shape, optionally with a class label
 * per image.
 *
 * @param source where the images came from (a path), for messages and model names
 * @param shape the common image shape
 * @param images the images, each of length {@code shape.size()}
 * @param labels per image its class index in {@code 0 .. classes.size() - 1}, or null for an unlabelled set
 * @param classes the class names in index order; empty for an unlabelled set
 */
public record Dataset(String source, ImageShape shape, double[][] images, int[] labels, List<String> classes) {
  public Dataset {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(images, "images");
    classes = classes == null ? List.of() : List.copyOf(classes);
    if ((labels == null) != classes.isEmpty()) {
      throw new IllegalArgumentException("labels and class names come together (" + source + ")");
    }
    if (labels != null) {
      if (labels.length != images.length) {
        throw new DatasetException(source + ": " + labels.length + " labels for " + images.length + " images");
      }
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] < 0 || labels[i] >= classes.size()) {
          throw new DatasetException(source + ": label " + labels[i] + " of image " + i + " is not a class index (0.."
              + (classes.size() - 1) + ")");
        }
      }
    }
  }

  /** An unlabelled set. */
  public Dataset(String source, ImageShape shape, double[][] images) {
    this(source, shape, images, null, List.of());
  }

  /** This set with labels (see the record's rules). */
  public Dataset withLabels(int[] newLabels, List<String> newClasses) {
    return new Dataset(source, shape, images, newLabels, newClasses);
  }

  /** True when every image has a class label. */
  public boolean labelled() {
    return labels != null;
  }

  /** Number of images. */
  public int size() {
    return images.length;
  }

  /** The mean Euclidean norm of the images (in [-1, 1] units), the input of the recommended PFGM constants. */
  public double averageNorm() {
    double sum = 0;
    for (double[] x : images) {
      double s = 0;
      for (double v : x) {
        s += v * v;
      }
      sum += Math.sqrt(s);
    }
    return images.length == 0 ? 0 : sum / images.length;
  }
}

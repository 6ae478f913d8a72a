package io.fieldline.core.data;

import io.fieldline.core.ImageShape;
import java.util.Objects;

/**
 * Images as vectors in [-1, 1] (pixel / 127.5 - 1), channels-first, all of one shape.
 *
 * @param source where the images came from (a path), for messages and model names
 * @param shape the common image shape
 * @param images the images, each of length {@code shape.size()}
 */
public record Dataset(String source, ImageShape shape, double[][] images) {
  public Dataset {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(images, "images");
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

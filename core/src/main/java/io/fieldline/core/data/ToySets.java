package io.fieldline.core.data;

import io.fieldline.core.ImageShape;
import java.util.List;
import java.util.Random;

/**
 * Two-dimensional toy distributions, the classic sanity check of a generative flow: points you can look at in a
 * scatter plot ({@code fieldline generate --grid} draws one) instead of images. A point (x, y) is stored as a 1x1x2
 * "image", so the exact field, the solvers, the engine, the trainer and the pipeline all take it unchanged.
 * Coordinates lie in about [-1, 1], like pixels.
 *
 * <p>Sets are deterministic: the same name, count and seed give the same points.
 */
public final class ToySets {
  /** The shape of a toy point. */
  public static final ImageShape SHAPE = new ImageShape(1, 1, 2);
  /** The prefix of a toy data specification, as in {@code toy:moons}. */
  public static final String PREFIX = "toy:";
  /** The names {@link #generate} knows. */
  public static final List<String> NAMES = List.of("moons", "gaussians", "swissroll", "circles");

  private ToySets() {}

  /**
   * Draws {@code count} points of a named set.
   *
   * <ul>
   *   <li>{@code moons}: two interleaved half circles, Gaussian noise 0.05 (scikit-learn's make_moons, rescaled);
   *       labelled "upper" and "lower".</li>
   *   <li>{@code gaussians}: eight Gaussians (std 0.05) evenly on a circle of radius 0.8; labelled by mode "0".."7"
   *       (mode k at angle 2 pi k / 8).</li>
   *   <li>{@code swissroll}: a 2-D spiral, noise 0.02.</li>
   *   <li>{@code circles}: two concentric circles, radii 0.8 and 0.4, noise 0.02; labelled "outer" and "inner".</li>
   * </ul>
   *
   * @throws DatasetException for an unknown name or a count below 1
   */
  public static Dataset generate(String name, int count, long seed) {
    if (count < 1) {
      throw new DatasetException("a toy set needs at least one point, got " + count);
    }
    Random r = new Random(seed);
    double[][] points = new double[count][];
    for (int i = 0; i < count; i++) {
      points[i] = switch (name) {
        case "moons" -> moon(r, i % 2 == 0);
        case "gaussians" -> {
          double a = 2 * Math.PI * (i % 8) / 8;
          yield new double[] {0.8 * Math.cos(a) + 0.05 * r.nextGaussian(), 0.8 * Math.sin(a) + 0.05 * r.nextGaussian()};
        }
        case "swissroll" -> {
          double t = 1.5 * Math.PI * (1 + 2 * r.nextDouble());
          yield new double[] {t * Math.cos(t) / 15 + 0.02 * r.nextGaussian(), t * Math.sin(t) / 15
              + 0.02 * r.nextGaussian()};
        }
        case "circles" -> {
          double a = 2 * Math.PI * r.nextDouble();
          double radius = i % 2 == 0 ? 0.8 : 0.4;
          yield new double[] {radius * Math.cos(a) + 0.02 * r.nextGaussian(), radius * Math.sin(a)
              + 0.02 * r.nextGaussian()};
        }
        default -> throw new DatasetException("unknown toy set '" + name + "' (expected one of " + NAMES + ")");
      };
    }
    Dataset set = new Dataset(PREFIX + name, SHAPE, points);
    // Labelled where the parts are obvious: which Gaussian, which moon, which circle (class-conditional toys).
    return switch (name) {
      case "gaussians" -> set.withLabels(cycle(count, 8), List.of("0", "1", "2", "3", "4", "5", "6", "7"));
      case "moons" -> set.withLabels(cycle(count, 2), List.of("upper", "lower"));
      case "circles" -> set.withLabels(cycle(count, 2), List.of("outer", "inner"));
      default -> set;
    };
  }

  private static int[] cycle(int count, int classes) {
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = i % classes;
    }
    return labels;
  }

  /** A point of make_moons (upper or lower half circle), mapped from about [-1, 2] x [-0.5, 1] to about [-1, 1]. */
  private static double[] moon(Random r, boolean upper) {
    double t = Math.PI * r.nextDouble();
    double x = upper ? Math.cos(t) : 1 - Math.cos(t);
    double y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    x += 0.05 * r.nextGaussian();
    y += 0.05 * r.nextGaussian();
    return new double[] {(x - 0.5) / 1.5, (y - 0.25) / 1.5};
  }
}

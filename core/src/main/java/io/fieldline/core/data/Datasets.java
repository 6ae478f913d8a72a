package io.fieldline.core.data;

import io.fieldline.core.ImageShape;
import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;

/**
 * Reads image data sets: IDX files (the MNIST / Fashion-MNIST format, plain or gzip) and folders of PNG/JPEG
 * images. Pure JDK, so the trainer and the model server share it.
 *
 * <p>Errors are {@link DatasetException}s whose message names the file: missing, not IDX, wrong element type,
 * truncated, unreadable image, or no images at all.
 */
public final class Datasets {
  /** Where Debian's {@code dataset-fashion-mnist} package puts Fashion-MNIST. */
  public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");
  private static final int IDX_UBYTE_3D = 0x00000803;
  private static final int IDX_UBYTE_1D = 0x00000801;
  /**
   * Fashion-MNIST's ten classes in label order, as names that work in requests, on command lines and as folder names
   * (the data set's own names: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot).
   */
  public static final List<String> FASHION_MNIST_CLASSES = List.of("tshirt", "trouser", "pullover", "dress", "coat",
      "sandal", "shirt", "sneaker", "bag", "ankle-boot");

  private Datasets() {}

  /** The Fashion-MNIST training images of Debian's package. */
  public static Path fashionMnistTrain() {
    return FASHION_MNIST_DIR.resolve("train-images-idx3-ubyte.gz");
  }

  /** The Fashion-MNIST training labels of Debian's package. */
  public static Path fashionMnistTrainLabels() {
    return FASHION_MNIST_DIR.resolve("train-labels-idx1-ubyte.gz");
  }

  /** The Fashion-MNIST test labels of Debian's package. */
  public static Path fashionMnistTestLabels() {
    return FASHION_MNIST_DIR.resolve("t10k-labels-idx1-ubyte.gz");
  }

  /**
   * Reads the first {@code limit} labels of an IDX1 unsigned-byte file (plain or gzip).
   *
   * @throws DatasetException naming the file if it is missing, not IDX1, or truncated
   */
  public static int[] readLabels(Path path, int limit) {
    if (!Files.exists(path)) {
      throw new DatasetException("labels not found: " + path);
    }
    try (InputStream in = Files.newInputStream(path)) {
      return readLabels(in, path.toString(), limit);
    } catch (IOException e) {
      throw new DatasetException("cannot read " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads the first {@code limit} labels of an IDX1 unsigned-byte stream (plain or gzip; not closed).
   *
   * @param name the source's name, for messages
   * @throws DatasetException naming the source if it is not IDX1 or truncated
   */
  public static int[] readLabels(InputStream stream, String name, int limit) {
    try {
      InputStream raw = new BufferedInputStream(stream);
      raw.mark(2);
      int b0 = raw.read();
      int b1 = raw.read();
      raw.reset();
      DataInputStream data = new DataInputStream((b0 == 0x1f && b1 == 0x8b) ? new GZIPInputStream(raw) : raw);
      int magic = data.readInt();
      if (magic != IDX_UBYTE_1D) {
        throw new DatasetException(name + " is not an IDX file of unsigned-byte labels (magic "
            + String.format(Locale.ROOT, "0x%08x", magic) + ", expected 0x00000801)");
      }
      int n = Math.min(data.readInt(), limit);
      int[] labels = new int[Math.max(n, 0)];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = data.readUnsignedByte();
      }
      return labels;
    } catch (EOFException e) {
      throw new DatasetException(name + " is truncated: it ends before the labels its header announces", e);
    } catch (IOException e) {
      throw new DatasetException("cannot read " + name + ": " + e.getMessage(), e);
    }
  }

  /** The Fashion-MNIST test images of Debian's package. */
  public static Path fashionMnistTest() {
    return FASHION_MNIST_DIR.resolve("t10k-images-idx3-ubyte.gz");
  }

  /**
   * Loads a data specification: {@code toy:<name>} ({@code limit} points of a {@link ToySets} set, seed 0),
   * {@code fashion-mnist} (Debian's training images), {@code fashion-mnist-test} (its 10,000 test images) or a path as
   * for {@link #load(Path, int, int)}.
   */
  public static Dataset load(String spec, int limit, int channels) {
    if (spec.startsWith(ToySets.PREFIX)) {
      return ToySets.generate(spec.substring(ToySets.PREFIX.length()), limit, 0);
    }
    Path path = switch (spec) {
      case "fashion-mnist" -> fashionMnistTrain();
      case "fashion-mnist-test" -> fashionMnistTest();
      default -> Path.of(spec);
    };
    return load(path, limit, channels);
  }

  /**
   * Loads up to {@code limit} images from an IDX file or an image folder.
   *
   * @param path an IDX file ({@code .gz} or plain) or a folder of {@code .png/.jpg/.jpeg} images
   * @param limit the most images to read (the first ones, in file order or sorted file-name order), at least 1
   * @param channels for image folders: 1 (grey) or 3 (RGB); IDX files are always grey
   */
  public static Dataset load(Path path, int limit, int channels) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    }
    if (!Files.exists(path)) {
      String hint = path.startsWith(FASHION_MNIST_DIR)
          ? " (install Debian's dataset-fashion-mnist package: apt-get install dataset-fashion-mnist)" : "";
      throw new DatasetException("data not found: " + path + hint);
    }
    return Files.isDirectory(path) ? readFolder(path, limit, channels) : withSiblingLabels(readIdx(path, limit), path);
  }

  /**
   * The IDX label file that belongs to an IDX image file by the MNIST naming habit ({@code ...-images-idx3-ubyte...}
   * next to {@code ...-labels-idx1-ubyte...}), or null if the name does not follow it.
   */
  public static Path labelsFileFor(Path images) {
    String name = images.getFileName().toString();
    return name.contains("images-idx3") ? images.resolveSibling(name.replace("images-idx3", "labels-idx1")) : null;
  }

  /**
   * The images with the labels of their sibling label file when there is one ({@link #labelsFileFor}); class names
   * are Fashion-MNIST's for files in Debian's Fashion-MNIST folder, else the label digits "0", "1", ...
   */
  static Dataset withSiblingLabels(Dataset images, Path path) {
    Path labelsFile = labelsFileFor(path);
    if (labelsFile == null || !Files.exists(labelsFile)) {
      return images;
    }
    int[] all = readLabels(labelsFile, Integer.MAX_VALUE);
    if (all.length < images.size()) {
      throw new DatasetException(labelsFile + " holds " + all.length + " labels for " + images.size() + " images");
    }
    int[] labels = java.util.Arrays.copyOf(all, images.size());
    // The class count of the whole file, so it does not depend on how many images were read.
    int classes = java.util.Arrays.stream(all).max().orElse(0) + 1;
    List<String> names = path.toAbsolutePath().startsWith(FASHION_MNIST_DIR) && classes <= FASHION_MNIST_CLASSES.size()
        ? FASHION_MNIST_CLASSES
        : java.util.stream.IntStream.range(0, classes).mapToObj(Integer::toString).toList();
    return images.withLabels(labels, names);
  }

  /** Reads the first {@code limit} images of an IDX3 unsigned-byte file (gzip detected by its magic bytes). */
  public static Dataset readIdx(Path path, int limit) {
    try (InputStream in = Files.newInputStream(path)) {
      return readIdx(in, path.toString(), limit);
    } catch (IOException e) {
      throw new DatasetException("cannot read " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads the first {@code limit} images of an IDX3 unsigned-byte stream (gzip detected by its magic bytes).
   *
   * @param stream the bytes (not closed)
   * @param name the source's name, for messages
   */
  public static Dataset readIdx(InputStream stream, String name, int limit) {
    try {
      InputStream raw = new BufferedInputStream(stream);
      raw.mark(2);
      int b0 = raw.read();
      int b1 = raw.read();
      raw.reset();
      InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new BufferedInputStream(new GZIPInputStream(raw)) : raw;
      DataInputStream data = new DataInputStream(in);
      int magic = data.readInt();
      if (magic != IDX_UBYTE_3D) {
        throw new DatasetException(name + " is not an IDX file of unsigned-byte images (magic "
            + String.format(Locale.ROOT, "0x%08x", magic) + ", expected 0x00000803)");
      }
      int count = data.readInt();
      int rows = data.readInt();
      int cols = data.readInt();
      if (count < 0 || rows <= 0 || cols <= 0 || (long) rows * cols > 16_777_216L) {
        throw new DatasetException(name + " has an impossible IDX header: " + count + " images of " + rows + "x" + cols);
      }
      int n = Math.min(count, limit);
      if (n == 0) {
        throw new DatasetException(name + " holds no images");
      }
      ImageShape shape = new ImageShape(1, rows, cols);
      byte[] buffer = new byte[rows * cols];
      double[][] images = new double[n][];
      for (int k = 0; k < n; k++) {
        data.readFully(buffer);
        images[k] = toUnit(buffer);
      }
      return new Dataset(name, shape, images);
    } catch (EOFException e) {
      throw new DatasetException(name + " is truncated: it ends before the images its header announces", e);
    } catch (IOException e) {
      throw new DatasetException("cannot read " + name + ": " + e.getMessage(), e);
    }
  }

  private static double[] toUnit(byte[] pixels) {
    double[] x = new double[pixels.length];
    for (int i = 0; i < pixels.length; i++) {
      x[i] = (pixels[i] & 0xFF) / 127.5 - 1.0;
    }
    return x;
  }

  /**
   * Reads the images of a folder (sorted by file name), resized to the size of the first one with bilinear
   * interpolation, as grey (luma) or RGB. A folder with no images of its own but subfolders of images is a labelled
   * set: each subfolder is a class named for it (classes in sorted name order; {@code limit} images are taken
   * round-robin over the classes, so every class keeps a share).
   */
  public static Dataset readFolder(Path folder, int limit, int channels) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
    }
    List<Path> files = imageFiles(folder, limit);
    List<String> classes = List.of();
    int[] labels = null;
    if (files.isEmpty()) {
      // A labelled folder: one subfolder per class, named for it (the layout `submit --out` writes).
      List<Path> dirs;
      try (Stream<Path> list = Files.list(folder)) {
        dirs = list.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted()
            .toList();
      } catch (IOException e) {
        throw new DatasetException("cannot list " + folder + ": " + e.getMessage(), e);
      }
      List<List<Path>> perClass = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Path dir : dirs) {
        List<Path> inClass = imageFiles(dir, limit);
        if (!inClass.isEmpty()) {
          names.add(dir.getFileName().toString());
          perClass.add(inClass);
        }
      }
      // Round-robin over the classes, so a --limit below the total keeps every class (and about equal shares).
      List<Path> all = new ArrayList<>();
      List<Integer> labelList = new ArrayList<>();
      for (int k = 0; all.size() < limit; k++) {
        boolean any = false;
        for (int c = 0; c < perClass.size() && all.size() < limit; c++) {
          if (k < perClass.get(c).size()) {
            all.add(perClass.get(c).get(k));
            labelList.add(c);
            any = true;
          }
        }
        if (!any) {
          break;
        }
      }
      files = all;
      if (!names.isEmpty()) {
        classes = names;
        labels = labelList.stream().mapToInt(Integer::intValue).toArray();
      }
    }
    if (files.isEmpty()) {
      throw new DatasetException(folder + " holds no .png, .jpg or .jpeg images (nor class subfolders of them)");
    }
    List<double[]> images = new ArrayList<>();
    ImageShape shape = null;
    for (Path file : files) {
      BufferedImage image;
      try {
        image = ImageIO.read(file.toFile());
      } catch (IOException e) {
        throw new DatasetException("cannot read image " + file + ": " + e.getMessage(), e);
      }
      if (image == null) {
        throw new DatasetException(file + " is not a readable PNG or JPEG image");
      }
      if (shape == null) {
        shape = new ImageShape(channels, image.getHeight(), image.getWidth());
      }
      images.add(toVector(resize(image, shape.width(), shape.height()), channels));
    }
    return new Dataset(folder.toString(), shape, images.toArray(new double[0][]), labels, classes);
  }

  /**
   * Reads one PNG or JPEG image as a vector in [-1, 1] of {@code shape} (resized bilinearly if its size differs; grey
   * for one channel, RGB for three).
   *
   * @throws DatasetException naming the file if it is missing or not a readable image
   */
  public static double[] readImage(Path file, ImageShape shape) {
    BufferedImage image;
    try {
      image = Files.isRegularFile(file) ? ImageIO.read(file.toFile()) : null;
    } catch (IOException e) {
      throw new DatasetException("cannot read image " + file + ": " + e.getMessage(), e);
    }
    if (image == null) {
      throw new DatasetException(file + (Files.exists(file) ? " is not a readable PNG or JPEG image" : " not found"));
    }
    return toVector(resize(image, shape.width(), shape.height()), shape.channels());
  }

  /** The first {@code limit} image files directly in a folder, by sorted name. */
  private static List<Path> imageFiles(Path folder, int limit) {
    if (limit <= 0) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(folder)) {
      return list.filter(p -> {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg"));
      }).sorted().limit(limit).toList();
    } catch (IOException e) {
      throw new DatasetException("cannot list " + folder + ": " + e.getMessage(), e);
    }
  }

  private static BufferedImage resize(BufferedImage image, int width, int height) {
    if (image.getWidth() == width && image.getHeight() == height && image.getType() == BufferedImage.TYPE_INT_RGB) {
      return image;
    }
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = out.createGraphics();
    g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION,
        java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(image, 0, 0, width, height, null);
    g.dispose();
    return out;
  }

  private static double[] toVector(BufferedImage image, int channels) {
    int w = image.getWidth();
    int h = image.getHeight();
    double[] x = new double[channels * w * h];
    for (int row = 0; row < h; row++) {
      for (int col = 0; col < w; col++) {
        int rgb = image.getRGB(col, row);
        int r = (rgb >> 16) & 0xFF;
        int g = (rgb >> 8) & 0xFF;
        int b = rgb & 0xFF;
        int at = row * w + col;
        if (channels == 1) {
          x[at] = (0.299 * r + 0.587 * g + 0.114 * b) / 127.5 - 1.0;
        } else {
          x[at] = r / 127.5 - 1.0;
          x[w * h + at] = g / 127.5 - 1.0;
          x[2 * w * h + at] = b / 127.5 - 1.0;
        }
      }
    }
    return x;
  }
}

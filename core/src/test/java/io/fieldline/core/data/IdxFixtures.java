package io.fieldline.core.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX3 files for tests. */
public final class IdxFixtures {
  private IdxFixtures() {}

  /** Random images, {@code count} of {@code rows x cols}, seeded; optionally gzip-compressed. */
  public static byte[] idx(int count, int rows, int cols, long seed, boolean gzip) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream sink = gzip ? new GZIPOutputStream(bytes) : bytes;
         DataOutputStream out = new DataOutputStream(sink)) {
      out.writeInt(0x00000803);
      out.writeInt(count);
      out.writeInt(rows);
      out.writeInt(cols);
      Random random = new Random(seed);
      byte[] image = new byte[rows * cols];
      for (int k = 0; k < count; k++) {
        random.nextBytes(image);
        out.write(image);
      }
    }
    return bytes.toByteArray();
  }

  /**
   * A labelled set by the MNIST naming habit: {@code dir/<stem>-images-idx3-ubyte} ({@link #idx}, not compressed) and
   * its sibling {@code <stem>-labels-idx1-ubyte}, image i of class i mod {@code classes}; returns the images file.
   * Loaded, it has classes "0", "1", ... (an exact field of it is class-conditional).
   */
  public static Path writeLabelled(Path dir, String stem, int count, int rows, int cols, long seed, int classes)
      throws IOException {
    Path images = write(dir.resolve(stem + "-images-idx3-ubyte"), count, rows, cols, seed, false);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(0x00000801);
      out.writeInt(count);
      for (int i = 0; i < count; i++) {
        out.writeByte(i % classes);
      }
    }
    Files.write(dir.resolve(stem + "-labels-idx1-ubyte"), bytes.toByteArray());
    return images;
  }

  /** Writes {@link #idx} to a file and returns it. */
  public static Path write(Path file, int count, int rows, int cols, long seed, boolean gzip) throws IOException {
    Files.write(file, idx(count, rows, cols, seed, gzip));
    return file;
  }
}

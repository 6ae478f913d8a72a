package io.fieldline.trainer.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The training state after a step: step number and, per parameter, its value, EMA, and Adam moments. Written to a
 * temporary file and moved into place, so a crash mid-write leaves the previous checkpoint intact.
 *
 * @param step the last completed step
 * @param fingerprint the run settings the state belongs to (resume refuses a different one)
 * @param tensors per parameter: value, EMA, first moment, second moment
 */
public record Checkpoint(long step, String fingerprint, Map<String, float[][]> tensors) {
  private static final int MAGIC = 0x464c434b; // "FLCK"
  private static final int VERSION = 1;

  public void write(Path file) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeLong(step);
      out.writeUTF(fingerprint);
      out.writeInt(tensors.size());
      for (Map.Entry<String, float[][]> e : tensors.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeInt(e.getValue().length);
        for (float[] t : e.getValue()) {
          out.writeInt(t.length);
          for (float f : t) {
            out.writeFloat(f);
          }
        }
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  public static Checkpoint read(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      if (in.readInt() != MAGIC || in.readInt() != VERSION) {
        throw new IOException(file + " is not a Fieldline checkpoint (version " + VERSION + ")");
      }
      long step = in.readLong();
      String fingerprint = in.readUTF();
      int count = in.readInt();
      Map<String, float[][]> tensors = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        float[][] parts = new float[in.readInt()][];
        for (int j = 0; j < parts.length; j++) {
          parts[j] = new float[in.readInt()];
          for (int k = 0; k < parts[j].length; k++) {
            parts[j][k] = in.readFloat();
          }
        }
        tensors.put(name, parts);
      }
      return new Checkpoint(step, fingerprint, tensors);
    }
  }
}

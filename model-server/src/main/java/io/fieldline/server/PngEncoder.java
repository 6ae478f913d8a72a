package io.fieldline.server;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A small, deterministic PNG writer: 8-bit grey or RGB, no filtering, zlib level 6, and tEXt chunks in the order
 * given. The same pixels and text give the same bytes on the same JDK, which is what lets the pipeline and
 * {@code fieldline generate} be compared byte for byte.
 *
 * <p>Text keywords must be 1-79 Latin-1 characters; values are written as Latin-1 (characters outside it become
 * '?').
 */
public final class PngEncoder {
  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private PngEncoder() {}

  /**
   * The tEXt entries of a PNG, in file order (what a reader of generated images looks up: model, seed, class, ...).
   *
   * @throws IllegalArgumentException if the bytes are not a PNG or a chunk runs past the end
   */
  public static Map<String, String> readText(byte[] png) {
    if (png.length < SIGNATURE.length || !java.util.Arrays.equals(java.util.Arrays.copyOf(png, SIGNATURE.length),
        SIGNATURE)) {
      throw new IllegalArgumentException("not a PNG (no PNG signature)");
    }
    Map<String, String> text = new java.util.LinkedHashMap<>();
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(png, SIGNATURE.length, png.length - SIGNATURE.length);
    while (b.remaining() >= 12) {
      int length = b.getInt();
      byte[] type = new byte[4];
      b.get(type);
      if (length < 0 || length > b.remaining() - 4) {
        throw new IllegalArgumentException("PNG chunk " + new String(type, StandardCharsets.ISO_8859_1)
            + " runs past the end");
      }
      byte[] data = new byte[length];
      b.get(data);
      b.getInt(); // CRC
      String kind = new String(type, StandardCharsets.ISO_8859_1);
      if (kind.equals("tEXt")) {
        int zero = 0;
        while (zero < data.length && data[zero] != 0) {
          zero++;
        }
        text.put(new String(data, 0, zero, StandardCharsets.ISO_8859_1), zero >= data.length ? ""
            : new String(data, zero + 1, data.length - zero - 1, StandardCharsets.ISO_8859_1));
      } else if (kind.equals("IEND")) {
        break;
      }
    }
    return text;
  }

  /**
   * Encodes an image.
   *
   * @param pixels interleaved 8-bit pixels, {@code width * height * channels} bytes
   * @param width columns
   * @param height rows
   * @param channels 1 (grey) or 3 (RGB)
   * @param text tEXt entries (keyword to value), written in iteration order; may be empty
   */
  public static byte[] encode(byte[] pixels, int width, int height, int channels, Map<String, String> text) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
    }
    if (width <= 0 || height <= 0 || (long) width * height * channels != pixels.length) {
      throw new IllegalArgumentException("pixel buffer of " + pixels.length + " bytes does not match "
          + width + "x" + height + "x" + channels);
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(pixels.length / 2 + 256);
      out.write(SIGNATURE);
      ByteArrayOutputStream header = new ByteArrayOutputStream();
      DataOutputStream h = new DataOutputStream(header);
      h.writeInt(width);
      h.writeInt(height);
      h.writeByte(8); // bit depth
      h.writeByte(channels == 1 ? 0 : 2); // colour type: grey or truecolour
      h.writeByte(0); // deflate
      h.writeByte(0); // adaptive filtering (we use filter type 0 on every row)
      h.writeByte(0); // no interlace
      chunk(out, "IHDR", header.toByteArray());
      for (Map.Entry<String, String> e : text.entrySet()) {
        chunk(out, "tEXt", textChunk(e.getKey(), e.getValue()));
      }
      chunk(out, "IDAT", deflateRows(pixels, width * channels, height));
      chunk(out, "IEND", new byte[0]);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in-memory streams do not fail
    }
  }

  private static byte[] textChunk(String keyword, String value) {
    if (keyword.isEmpty() || keyword.length() > 79) {
      throw new IllegalArgumentException("PNG text keyword must have 1..79 characters: '" + keyword + "'");
    }
    byte[] k = keyword.getBytes(StandardCharsets.ISO_8859_1);
    byte[] v = value.getBytes(StandardCharsets.ISO_8859_1);
    byte[] data = new byte[k.length + 1 + v.length];
    System.arraycopy(k, 0, data, 0, k.length);
    System.arraycopy(v, 0, data, k.length + 1, v.length);
    return data;
  }

  private static byte[] deflateRows(byte[] pixels, int rowBytes, int height) {
    byte[] raw = new byte[(rowBytes + 1) * height];
    for (int y = 0; y < height; y++) {
      raw[y * (rowBytes + 1)] = 0; // filter type None
      System.arraycopy(pixels, y * rowBytes, raw, y * (rowBytes + 1) + 1, rowBytes);
    }
    Deflater deflater = new Deflater(6);
    try {
      deflater.setInput(raw);
      deflater.finish();
      ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 2 + 64);
      byte[] buffer = new byte[8192];
      while (!deflater.finished()) {
        int n = deflater.deflate(buffer);
        out.write(buffer, 0, n);
      }
      return out.toByteArray();
    } finally {
      deflater.end();
    }
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
    DataOutputStream d = new DataOutputStream(out);
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    d.writeInt(data.length);
    d.write(typeBytes);
    d.write(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    d.writeInt((int) crc.getValue());
  }
}

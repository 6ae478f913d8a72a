package io.fieldline.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

/** Our PNG writer, read back by the JDK's independent PNG reader. */
class PngEncoderTest {
  @Test
  void shouldRoundTripGreyPixelsThroughImageIo() throws Exception {
    byte[] pixels = new byte[7 * 5];
    new Random(1).nextBytes(pixels);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(pixels, 7, 5, 1, Map.of())));
    assertEquals(7, image.getWidth());
    assertEquals(5, image.getHeight());
    for (int y = 0; y < 5; y++) {
      for (int x = 0; x < 7; x++) {
        assertEquals(pixels[y * 7 + x] & 0xFF, image.getRaster().getSample(x, y, 0));
      }
    }
  }

  @Test
  void shouldRoundTripRgbPixelsThroughImageIo() throws Exception {
    byte[] pixels = new byte[3 * 4 * 3];
    new Random(2).nextBytes(pixels);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(pixels, 4, 3, 3, Map.of())));
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 4; x++) {
        for (int c = 0; c < 3; c++) {
          assertEquals(pixels[(y * 4 + x) * 3 + c] & 0xFF, image.getRaster().getSample(x, y, c));
        }
      }
    }
  }

  @Test
  void shouldWriteTextChunksThatReadersSee() throws Exception {
    Map<String, String> text = new LinkedHashMap<>();
    text.put("fieldline.seed", "42");
    text.put("fieldline.solver", "rk45");
    byte[] png = PngEncoder.encode(new byte[4], 2, 2, 1, text);
    assertEquals(text, readText(png));
    assertArrayEquals(png, PngEncoder.encode(new byte[4], 2, 2, 1, text), "deterministic bytes");
  }

  @Test
  void shouldRefuseMismatchedBuffers() {
    assertThrows(IllegalArgumentException.class, () -> PngEncoder.encode(new byte[5], 2, 2, 1, Map.of()));
    assertThrows(IllegalArgumentException.class, () -> PngEncoder.encode(new byte[4], 2, 2, 2, Map.of()));
  }

  @Test
  void shouldMapSampleValuesToBytes() {
    assertEquals(0, Pixels.toByte(-1));
    assertEquals(255, Pixels.toByte(1));
    assertEquals(128, Pixels.toByte(0));
    assertEquals(255, Pixels.toByte(7));
    assertEquals(0, Pixels.toByte(-7));
    assertEquals(0, Pixels.toByte(Double.NaN));
  }

  /** Reads tEXt entries with the JDK's PNG reader. */
  static Map<String, String> readText(byte[] png) throws Exception {
    Map<String, String> text = new LinkedHashMap<>();
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
      ImageReader reader = ImageIO.getImageReaders(in).next();
      reader.setInput(in);
      IIOMetadata metadata = reader.getImageMetadata(0);
      Node root = metadata.getAsTree("javax_imageio_png_1.0");
      for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
        if (n.getNodeName().equals("tEXt")) {
          for (Node e = n.getFirstChild(); e != null; e = e.getNextSibling()) {
            NamedNodeMap attributes = e.getAttributes();
            text.put(attributes.getNamedItem("keyword").getNodeValue(), attributes.getNamedItem("value").getNodeValue());
          }
        }
      }
    }
    return text;
  }

  @Test
  void shouldDecodeWhatItEncodesBackToTheSampleWithinHalfAPixelLevel() {
    for (io.fieldline.core.ImageShape shape : new io.fieldline.core.ImageShape[] {
        new io.fieldline.core.ImageShape(1, 5, 7), new io.fieldline.core.ImageShape(3, 4, 6)}) {
      java.util.Random random = new java.util.Random(shape.size());
      double[] x = new double[shape.size()];
      for (int i = 0; i < x.length; i++) {
        x[i] = random.nextDouble() * 2 - 1;
      }
      byte[] png = PngEncoder.encode(Pixels.toBytes(x, shape), shape.width(), shape.height(), shape.channels(),
          java.util.Map.of());
      Pixels.Decoded back = Pixels.fromPng(png);
      org.junit.jupiter.api.Assertions.assertEquals(shape, back.shape());
      for (int i = 0; i < x.length; i++) {
        org.junit.jupiter.api.Assertions.assertEquals(x[i], back.x()[i], 0.5 / 127.5 + 1e-12, "value " + i);
      }
    }
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Pixels.fromPng(new byte[] {1, 2, 3}));
  }
}

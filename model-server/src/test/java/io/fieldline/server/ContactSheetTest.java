package io.fieldline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fieldline.core.ImageShape;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ContactSheetTest {
  @Test
  void shouldPlotTwoDimensionalPointsWithYUp() throws Exception {
    List<double[]> points = List.of(new double[] {1.0, 1.0}, new double[] {-1.0, -1.0}, new double[] {Double.NaN, 0},
        new double[] {9, 9});
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(ContactSheet.png(points, new ImageShape(1, 1, 2), 0, 2,
        Map.of())));
    assertEquals(512, img.getWidth());
    // [-1.5, 1.5] over 512 pixels: x = 1 -> column 425; y = 1 -> row 511 - 425 = 86 (y grows upwards).
    assertEquals(255, img.getRaster().getSample(425, 86, 0), "(1, 1) is up and right");
    assertEquals(255, img.getRaster().getSample(85, 426, 0), "(-1, -1) is down and left");
    assertEquals(0, img.getRaster().getSample(425, 426, 0), "nothing at (1, -1)");
    assertEquals(0, img.getRaster().getSample(511, 0, 0), "(9, 9) and NaN are clipped, not drawn at an edge");
  }
}

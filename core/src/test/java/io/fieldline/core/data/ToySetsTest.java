package io.fieldline.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ToySetsTest {
  @Test
  void shouldDrawTheSamePointsForTheSameNameCountAndSeed() {
    for (String name : ToySets.NAMES) {
      Dataset a = ToySets.generate(name, 500, 3);
      Dataset b = Datasets.load("toy:" + name, 500, 1);
      assertEquals(ToySets.SHAPE, a.shape());
      assertEquals("toy:" + name, a.source());
      assertArrayEquals(a.images()[17], ToySets.generate(name, 500, 3).images()[17], name);
      assertEquals(500, b.size());
      for (double[] p : a.images()) {
        assertTrue(Math.abs(p[0]) < 1.5 && Math.abs(p[1]) < 1.5, name + " stays in the plotted square");
      }
    }
  }

  @Test
  void shouldPutTheEightGaussiansOnTheirCircle() {
    Dataset g = ToySets.generate("gaussians", 8000, 1);
    double meanRadius = 0;
    for (double[] p : g.images()) {
      meanRadius += Math.hypot(p[0], p[1]) / g.size();
    }
    // Radius 0.8 plus 2-D noise of std 0.05: E|r| ~ 0.8 + 0.05^2 / (2 * 0.8), within 3 standard errors.
    assertEquals(0.8016, meanRadius, 3 * 0.05 / Math.sqrt(8000));
  }

  @Test
  void shouldNameTheKnownSetsForAnUnknownOne() {
    DatasetException e = assertThrows(DatasetException.class, () -> Datasets.load("toy:spiral", 10, 1));
    assertTrue(e.getMessage().contains("moons") && e.getMessage().contains("spiral"), e.getMessage());
    assertThrows(DatasetException.class, () -> ToySets.generate("moons", 0, 0));
  }
}

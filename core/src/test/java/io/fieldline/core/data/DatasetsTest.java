package io.fieldline.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
  @TempDir
  Path dir;

  @Test
  void shouldReadPlainAndGzipIdxAlike() throws Exception {
    Path plain = IdxFixtures.write(dir.resolve("a.idx"), 5, 4, 3, 1, false);
    Path gz = IdxFixtures.write(dir.resolve("a.idx.gz"), 5, 4, 3, 1, true);
    Dataset a = Datasets.load(plain, 100, 1);
    Dataset b = Datasets.load(gz, 100, 1);
    assertEquals(5, a.size());
    assertEquals("1x4x3", a.shape().toString());
    assertTrue(Arrays.deepEquals(a.images(), b.images()));
    for (double v : a.images()[0]) {
      assertTrue(v >= -1 && v <= 1);
    }
    assertEquals(2, Datasets.load(gz, 2, 1).size(), "limit honoured");
  }

  @Test
  void shouldNameTheFileWhenTruncated() throws Exception {
    byte[] full = IdxFixtures.idx(5, 4, 4, 1, false);
    Path cut = dir.resolve("cut.idx");
    Files.write(cut, Arrays.copyOf(full, full.length - 10));
    DatasetException e = assertThrows(DatasetException.class, () -> Datasets.load(cut, 100, 1));
    assertTrue(e.getMessage().contains("cut.idx") && e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void shouldNameTheFileWhenTheMagicIsWrong() throws Exception {
    Path text = Files.writeString(dir.resolve("notes.txt"), "hello world, not images");
    DatasetException e = assertThrows(DatasetException.class, () -> Datasets.load(text, 100, 1));
    assertTrue(e.getMessage().contains("notes.txt") && e.getMessage().contains("not an IDX"), e.getMessage());
  }

  @Test
  void shouldSayWhereToGetFashionMnistWhenMissing() {
    DatasetException e = assertThrows(DatasetException.class,
        () -> Datasets.load(Datasets.FASHION_MNIST_DIR.resolve("nope.gz"), 1, 1));
    assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
  }

  @Test
  void shouldReadAnImageFolderResizedToTheFirstImage() throws Exception {
    Path folder = Files.createDirectory(dir.resolve("images"));
    BufferedImage small = new BufferedImage(4, 2, BufferedImage.TYPE_INT_RGB);
    small.setRGB(0, 0, 0xFFFFFF);
    ImageIO.write(small, "png", folder.resolve("a.png").toFile());
    BufferedImage large = new BufferedImage(8, 4, BufferedImage.TYPE_INT_RGB);
    ImageIO.write(large, "png", folder.resolve("b.png").toFile());
    Files.writeString(folder.resolve("readme.txt"), "ignored");
    Dataset grey = Datasets.load(folder, 10, 1);
    assertEquals(2, grey.size());
    assertEquals("1x2x4", grey.shape().toString());
    assertEquals(1.0, grey.images()[0][0], 1e-9);
    assertEquals(-1.0, grey.images()[0][1], 1e-9);
    Dataset rgb = Datasets.load(folder, 10, 3);
    assertEquals("3x2x4", rgb.shape().toString());
  }

  @Test
  void shouldNameAnUnreadableImage() throws Exception {
    Path folder = Files.createDirectory(dir.resolve("broken"));
    Files.write(folder.resolve("x.png"), new byte[] {1, 2, 3});
    DatasetException e = assertThrows(DatasetException.class, () -> Datasets.load(folder, 10, 1));
    assertTrue(e.getMessage().contains("x.png"), e.getMessage());
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThrows(DatasetException.class, () -> Datasets.load(empty, 10, 1));
  }
}

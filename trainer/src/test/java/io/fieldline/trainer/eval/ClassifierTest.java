package io.fieldline.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.ImageShape;
import io.fieldline.core.data.Dataset;
import io.fieldline.server.ModelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassifierTest {
  @TempDir
  Path dir;

  /** Class 0: bright left half; class 1: bright top half; noisy. */
  private static Dataset images(int count, long seed, int[] labels) {
    Random r = new Random(seed);
    double[][] x = new double[count][64];
    for (int i = 0; i < count; i++) {
      labels[i] = i % 2;
      for (int y = 0; y < 8; y++) {
        for (int c = 0; c < 8; c++) {
          x[i][y * 8 + c] = ((labels[i] == 0 ? c < 4 : y < 4) ? 0.5 : -0.5) + 0.4 * r.nextGaussian();
        }
      }
    }
    return new Dataset("toy", new ImageShape(1, 8, 8), x);
  }

  @Test
  void shouldTrainExportAndClassifyThroughOnnxRuntime() throws Exception {
    int[] labels = new int[200];
    int[] testLabels = new int[100];
    Dataset train = images(200, 1, labels);
    Dataset test = images(100, 2, testLabels);
    Classifier.Info info = Classifier.train(train, labels, test, testLabels, 2, 40, 3, dir, step -> { });
    assertTrue(info.testAccuracy() > 0.9, "accuracy " + info.testAccuracy());
    try (Classifier c = Classifier.load(dir)) {
      double[][] f = c.features(test.images());
      assertEquals(128, f[0].length);
      assertArrayEquals(c.features(new double[][] {test.images()[5]})[0], f[5], 1e-5, "batch-independent rows");
    }
    byte[] bytes = Files.readAllBytes(dir.resolve(Classifier.WEIGHTS));
    bytes[bytes.length - 10] ^= 1;
    Files.write(dir.resolve(Classifier.WEIGHTS), bytes);
    assertTrue(assertThrows(ModelException.class, () -> Classifier.load(dir)).getMessage().contains("corrupt"));
  }
}

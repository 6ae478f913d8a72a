package io.fieldline.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.ExactField;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import io.fieldline.core.data.Dataset;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fidelity and CAS on the exact class-conditional field of two kinds of 8x8 images, where the answers are known. */
class ClassEvaluatorTest {
  @TempDir
  Path dir;

  /** Class 0: bright left half; class 1: bright top half; noisy. */
  private static Dataset images(int count, long seed) {
    Random r = new Random(seed);
    double[][] x = new double[count][64];
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = i % 2;
      for (int y = 0; y < 8; y++) {
        for (int c = 0; c < 8; c++) {
          x[i][y * 8 + c] = ((labels[i] == 0 ? c < 4 : y < 4) ? 0.5 : -0.5) + 0.2 * r.nextGaussian();
        }
      }
    }
    return new Dataset("toy", new ImageShape(1, 8, 8), x, labels, List.of("left", "top"));
  }

  @Test
  void shouldScoreTheExactConditionalFieldAsFaithfulAndTheUnguidedOneAsChance() throws Exception {
    Dataset train = images(300, 1);
    Dataset test = images(200, 2);
    Classifier.train(train, train.labels(), test, test.labels(), 2, 60, 3, dir, step -> { });
    // The exact field of 40 training images: each sample lands on a charge of its class (w = 1) or of any class
    // (w = 0, the unconditional field).
    Dataset charges = images(40, 5);
    ExactField field = ExactField.builder().setData(charges.images()).setPhysics(PfgmppPhysics.edmDefaults(64, 32))
        .setShape(charges.shape()).optLabels(charges.labels(), charges.classes()).build();
    SamplerSettings heun = SamplerSettings.fixed(Solver.HEUN, 30);
    try (Classifier features = Classifier.load(dir)) {
      ClassEvaluator.Report conditional = ClassEvaluator.evaluate(List.of(field), heun, 100, features, train, test,
          100, ClassEvaluator.realCas(train, test, 100), 32, done -> { });
      ClassEvaluator.Report unguided = ClassEvaluator.evaluate(List.of(field), heun.withGuidance(0), 100, features,
          train, test, 0, 0, 32, done -> { });
      assertTrue(conditional.fidelity() > 0.95, conditional.toString());
      assertTrue(unguided.fidelity() > 0.3 && unguided.fidelity() < 0.7, "chance: " + unguided);
      // Trained on the field's images (copies of 40 real ones), the classifier does about as well as on real data.
      assertTrue(conditional.cas() / conditional.casReal() > 0.9, conditional.toString());
      assertEquals(0, unguided.casN());
      assertTrue(conditional.markdownRow().startsWith("| exact | heun(steps=30) | 1 | 100 |"), conditional.markdownRow());
      assertThrows(IllegalArgumentException.class, () -> ClassEvaluator.evaluate(List.of(field), heun, 5, features,
          train, test, 0, 0, 32, done -> { }));
    }
  }
}

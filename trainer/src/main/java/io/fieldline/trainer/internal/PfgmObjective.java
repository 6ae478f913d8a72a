package io.fieldline.trainer.internal;

import io.fieldline.core.ExactField;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.Priors;
import io.fieldline.core.SampleRandom;

/**
 * PFGM (D = 1) training (docs/PHYSICS.md sections 2-4): the first {@code rows} images are perturbed with the
 * multi-scale kernel (M, sigma = 0.01, tau = 0.03, restrict rule) and regressed on the normalized empirical
 * Poisson field of ALL images of the step as charges, computed in double precision by core's {@link ExactField}
 * (log-sum-exp, so the N + 1 power does not underflow as it does in the official float32 code).
 */
public final class PfgmObjective implements Objective {
  private final PfgmPhysics physics;
  private final ImageShape shape;
  private final int m;
  private final boolean restrict;

  /**
   * @param physics the model's constants (gamma for the target, N)
   * @param shape the image shape
   * @param m the kernel depth M (e.g. {@link PfgmPhysics#recommendedM})
   */
  public PfgmObjective(PfgmPhysics physics, ImageShape shape, int m) {
    this.physics = physics;
    this.shape = shape;
    this.m = m;
    this.restrict = true;
  }

  @Override
  public TrainingBatch batch(double[][] images, int rows, long seed, long step) {
    return batch(images, null, null, java.util.List.of(), rows, seed, step);
  }

  /**
   * The conditional target: row i regresses on the field of the step's charges of class {@code rowLabels[i]} alone
   * (all charges for "no label"), the exact class-conditional Poisson field, whose flow carries the prior onto that
   * class. Each class keeps about charges / classes of the step's charges.
   */
  @Override
  public TrainingBatch batch(double[][] images, int[] labels, int[] rowLabels, java.util.List<String> classes,
      int rows, long seed, long step) {
    int n = physics.dimension();
    double[][] perturbed = new double[rows][];
    double[] z = new double[rows];
    for (int i = 0; i < rows; i++) {
      SampleRandom r = new SampleRandom(seed ^ 0x5046474dL, step, 16 + i); // "PFGM" salt; purpose = row
      double mi = r.nextDouble() * m;
      double ez = Math.abs(r.nextGaussian() * PfgmPhysics.SIGMA);
      if (restrict && ez < 0.005) {
        mi = r.nextDouble() * Math.floor(0.7 * m);
      }
      double scale = Math.pow(1 + PfgmPhysics.TAU, mi);
      double rho = PfgmPhysics.SIGMA * Math.sqrt(2 * r.nextGamma(n / 2.0)); // |e|, e ~ N(0, sigma^2 I_N)
      double[] u = Priors.direction(n, r);
      double[] y = new double[n];
      for (int k = 0; k < n; k++) {
        y[k] = images[i][k] + rho * scale * u[k];
      }
      perturbed[i] = y;
      z[i] = Math.max(ez * scale, 1e-10);
    }
    double[][] field = new double[rows][n + 1];
    if (labels == null) {
      ExactField.builder().setData(images).setPhysics(physics).setShape(shape).build()
          .evaluate(perturbed, z, field, rows);
    } else {
      // A class absent from this step's charges cannot be a target: its rows fall back to the unconditional field.
      boolean[] present = new boolean[classes.size()];
      for (int l : labels) {
        present[l] = true;
      }
      java.util.List<String> used = new java.util.ArrayList<>();
      int[] renumber = new int[classes.size()];
      for (int c = 0; c < classes.size(); c++) {
        renumber[c] = present[c] ? used.size() : -1;
        if (present[c]) {
          used.add(classes.get(c));
        }
      }
      int[] chargeLabels = new int[labels.length];
      for (int j = 0; j < labels.length; j++) {
        chargeLabels[j] = renumber[labels[j]];
      }
      int[] targets = new int[rows];
      for (int i = 0; i < rows; i++) {
        targets[i] = rowLabels[i] == io.fieldline.core.FieldModel.NO_LABEL || renumber[rowLabels[i]] < 0
            ? io.fieldline.core.FieldModel.NO_LABEL : renumber[rowLabels[i]];
      }
      ExactField.builder().setData(images).setPhysics(physics).setShape(shape).optLabels(chargeLabels, used).build()
          .evaluate(perturbed, z, targets, field, rows);
    }
    float[] inputs = new float[rows * n];
    float[] cond = new float[rows];
    float[] targets = new float[rows * (n + 1)];
    float[] weights = new float[rows];
    for (int i = 0; i < rows; i++) {
      for (int k = 0; k < n; k++) {
        inputs[i * n + k] = (float) perturbed[i][k];
      }
      for (int k = 0; k <= n; k++) {
        targets[i * (n + 1) + k] = (float) field[i][k];
      }
      cond[i] = (float) z[i];
      weights[i] = 1f;
    }
    return new TrainingBatch(rows, inputs, cond, targets, weights);
  }
}

package io.fieldline.core;

/**
 * The physical constants of a field model: which family it belongs to (PFGM with one augmented dimension,
 * or PFGM++ with D of them), the data dimension N, and the constants its prior and its ODE need.
 *
 * <p>A model and every sample generated with it share one {@code Physics}; it is part of a model bundle's
 * {@code model.json} and of the identity of an image.
 */
public sealed interface Physics permits PfgmPhysics, PfgmppPhysics {
  /** The data dimension N = channels * height * width. */
  int dimension();

  /** The number of augmented dimensions D: 1 for PFGM, any D >= 1 (or infinity, diffusion) for PFGM++. */
  double augmentedDimensions();

  /** The length of one field-model output per sample: N + 1 for PFGM (v_x, v_z), N for PFGM++ (denoised x). */
  int outputDimension();

  /** A short human-readable summary, e.g. {@code pfgm(N=784, z_max=40.9)}. */
  String describe();
}

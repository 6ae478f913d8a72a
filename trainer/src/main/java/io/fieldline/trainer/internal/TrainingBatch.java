package io.fieldline.trainer.internal;

/**
 * One mini-batch of a training objective, flattened for the network: row i of {@code inputs} (N values) is
 * evaluated at {@code cond[i]} (z for PFGM, sigma for PFGM++) and its output is pulled towards row i of
 * {@code targets} ({@code outDim} values) with weight {@code weights[i]}.
 *
 * @param size rows
 * @param inputs size x N network inputs (perturbed images)
 * @param cond per-row conditioning
 * @param targets size x outDim regression targets
 * @param weights per-row loss weights
 */
public record TrainingBatch(int size, float[] inputs, float[] cond, float[] targets, float[] weights) {}

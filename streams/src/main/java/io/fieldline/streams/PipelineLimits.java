package io.fieldline.streams;

/**
 * Bounds on requests; anything outside is REJECTED with a reason naming the bound.
 *
 * @param maxCount most images per request
 * @param maxRequestIdLength longest request id (characters)
 * @param maxLabels most labels per request
 * @param maxLabelLength longest label key or value (characters)
 * @param maxPriority priorities must lie in [-maxPriority, maxPriority]
 */
public record PipelineLimits(int maxCount, int maxRequestIdLength, int maxLabels, int maxLabelLength,
    int maxPriority) {
  public PipelineLimits {
    if (maxCount < 1 || maxRequestIdLength < 1 || maxLabels < 0 || maxLabelLength < 1 || maxPriority < 0) {
      throw new IllegalArgumentException("limits must be positive");
    }
  }

  /** 10,000 images, ids of 128 characters, 32 labels of 256 characters, priorities within +-1000. */
  public static PipelineLimits defaults() {
    return new PipelineLimits(10_000, 128, 32, 256, 1000);
  }
}

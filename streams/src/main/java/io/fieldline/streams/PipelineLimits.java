package io.fieldline.streams;

/**
 * Bounds on requests and on queued work; anything outside is REJECTED at admission with a reason naming the bound.
 *
 * <p>The queue bounds count unfinished images (accepted, not yet DONE/FAILED/EXPIRED/CANCELLED): {@code
 * maxQueuedPerClient} per {@code clientId} (requests without a client id share the client {@code ""}), and
 * {@code maxQueued} for the whole pipeline. Across instances the counts come from the status topic, so they lag by
 * about one commit interval: two instances admitting at the same moment may together overshoot a bound by what they
 * admit within that interval.
 *
 * @param maxCount most images per request
 * @param maxRequestIdLength longest request id and client id (characters)
 * @param maxLabels most labels per request
 * @param maxLabelLength longest label key or value (characters)
 * @param maxPriority priorities must lie in [-maxPriority, maxPriority]
 * @param maxQueuedPerClient most unfinished images of one client
 * @param maxQueued most unfinished images of the whole pipeline (the engines' queues are sized from it)
 */
public record PipelineLimits(int maxCount, int maxRequestIdLength, int maxLabels, int maxLabelLength,
    int maxPriority, int maxQueuedPerClient, int maxQueued) {
  /** Default per-client bound on unfinished images. */
  public static final int DEFAULT_MAX_QUEUED_PER_CLIENT = 20_000;
  /** Default pipeline-wide bound on unfinished images. */
  public static final int DEFAULT_MAX_QUEUED = 50_000;

  public PipelineLimits {
    if (maxCount < 1 || maxRequestIdLength < 1 || maxLabels < 0 || maxLabelLength < 1 || maxPriority < 0
        || maxQueuedPerClient < 1 || maxQueued < 1) {
      throw new IllegalArgumentException("limits must be positive");
    }
  }

  /** Request bounds with the default queue bounds. */
  public PipelineLimits(int maxCount, int maxRequestIdLength, int maxLabels, int maxLabelLength, int maxPriority) {
    this(maxCount, maxRequestIdLength, maxLabels, maxLabelLength, maxPriority, DEFAULT_MAX_QUEUED_PER_CLIENT,
        DEFAULT_MAX_QUEUED);
  }

  /**
   * 10,000 images per request, ids of 128 characters, 32 labels of 256 characters, priorities within +-1000, 20,000
   * unfinished images per client and 50,000 in all.
   */
  public static PipelineLimits defaults() {
    return new PipelineLimits(10_000, 128, 32, 256, 1000);
  }

  /** A copy with another per-request image bound. */
  public PipelineLimits withMaxCount(int maxCount) {
    return new PipelineLimits(maxCount, maxRequestIdLength, maxLabels, maxLabelLength, maxPriority,
        maxQueuedPerClient, maxQueued);
  }

  /** A copy with other queue bounds. */
  public PipelineLimits withQueueBounds(int maxQueuedPerClient, int maxQueued) {
    return new PipelineLimits(maxCount, maxRequestIdLength, maxLabels, maxLabelLength, maxPriority,
        maxQueuedPerClient, maxQueued);
  }
}

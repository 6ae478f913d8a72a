package io.fieldline.streams;

/**
 * The pipeline's topics. All records are keyed by request id (samples by {@code requestId/index}, so one request's
 * images spread over all partitions and instances).
 *
 * @param requests GenerationRequest in (Confluent Avro)
 * @param control CancelRequest in; read by every instance (global store)
 * @param samples SampleTask, internal: one per image
 * @param progress ProgressEvent, internal: folded into statuses
 * @param images GeneratedImage out
 * @param status GenerationStatus out (compacted)
 * @param deadLetters the raw bytes of rejected requests, with error headers
 */
public record Topics(String requests, String control, String samples, String progress, String images, String status,
    String deadLetters) {
  /** {@code fieldline.requests}, {@code fieldline.control}, ... */
  public static Topics defaults() {
    return withPrefix("fieldline.");
  }

  /** Every topic name with a prefix. */
  public static Topics withPrefix(String p) {
    return new Topics(p + "requests", p + "control", p + "samples", p + "progress", p + "images", p + "status",
        p + "requests.dlq");
  }
}

package io.fieldline.streams;

import io.fieldline.core.engine.EngineListener;
import io.fieldline.core.engine.SampleResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/**
 * The pipeline's Micrometer meters (names as Prometheus shows them):
 * <ul>
 *   <li>{@code fieldline_samples_total{model, version, device, status}}: samples leaving the engine, by outcome;</li>
 *   <li>{@code fieldline_sample_queue_seconds} and {@code fieldline_sample_compute_seconds}: per completed sample;</li>
 *   <li>{@code fieldline_sample_nfe}: field evaluations per completed sample;</li>
 *   <li>{@code fieldline_batch_rows} and {@code fieldline_batch_seconds}: rows and time per forward pass;</li>
 *   <li>{@code fieldline_images_unfinished}: images accepted and not yet ended, all clients, as this instance counts
 *       them for admission;</li>
 *   <li>{@code fieldline_requests_rejected_total}: rejected requests (the reasons go to the status topic and the
 *       dead-letter headers, not to metric labels, whose number must stay bounded).</li>
 * </ul>
 */
public final class PipelineMetrics {
  private final MeterRegistry registry;
  private final Counter rejected;

  public PipelineMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.rejected = Counter.builder("fieldline.requests.rejected").description("Requests rejected by validation")
        .register(registry);
  }

  /** Meters that go nowhere (for embedding without metrics). */
  public static PipelineMetrics none() {
    return new PipelineMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Counts one rejected request. */
  public void rejected() {
    rejected.increment();
  }

  /** Registers the gauge of unfinished images. */
  public void unfinishedImages(java.util.function.LongSupplier unfinished) {
    io.micrometer.core.instrument.Gauge.builder("fieldline.images.unfinished", unfinished::getAsLong)
        .description("Images accepted and not yet ended (all clients)").register(registry);
  }

  /** The schema-registry outage meters: retries so far, and stream threads waiting for the registry now. */
  public void registryOutage(java.util.function.LongSupplier retries, java.util.function.IntSupplier waiting) {
    io.micrometer.core.instrument.FunctionCounter.builder("fieldline.registry.retries", retries,
        r -> r.getAsLong()).description("Retries of records whose schema the registry could not deliver (outages)")
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder("fieldline.registry.waiting", waiting::getAsInt)
        .description("Stream threads waiting for the schema registry now").register(registry);
  }

  /** The listener of one engine (one model version on one device). */
  public EngineListener engineListener(String model, String version, String device) {
    Tags tags = Tags.of("model", model, "version", version, "device", device);
    DistributionSummary rows = DistributionSummary.builder("fieldline.batch.rows").description("Rows per forward pass")
        .tags(tags).publishPercentileHistogram().register(registry);
    Timer batch = Timer.builder("fieldline.batch").description("Forward pass time").tags(tags).register(registry);
    Timer queue = Timer.builder("fieldline.sample.queue").description("Submission to start of integration")
        .tags(tags).publishPercentiles(0.5, 0.99).register(registry);
    Timer compute = Timer.builder("fieldline.sample.compute").description("Integration time, shared with batch-mates")
        .tags(tags).publishPercentiles(0.5, 0.99).register(registry);
    DistributionSummary nfe = DistributionSummary.builder("fieldline.sample.nfe").description("Field evaluations")
        .tags(tags).register(registry);
    return new EngineListener() {
      @Override
      public void onBatch(int size, Duration duration) {
        rows.record(size);
        batch.record(duration);
      }

      @Override
      public void onResult(SampleResult r) {
        Counter.builder("fieldline.samples").description("Samples leaving the engine").tags(tags)
            .tag("status", r.status().name().toLowerCase(java.util.Locale.ROOT)).register(registry).increment();
        if (r.status() == io.fieldline.core.engine.SampleStatus.COMPLETED) {
          queue.record(r.queueTime());
          compute.record(r.computeTime());
          nfe.record(r.nfe());
        }
      }
    };
  }
}

package io.fieldline.streams;

import io.fieldline.schemas.CancelRequest;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.ProgressEvent;
import io.fieldline.schemas.RequestProgress;
import io.fieldline.schemas.SampleTask;
import io.fieldline.server.ModelCatalog;
import io.fieldline.streams.internal.BinarySerde;
import io.fieldline.streams.internal.CancellationUpdater;
import io.fieldline.streams.internal.DeviceEngines;
import io.fieldline.streams.internal.GeneratorProcessor;
import io.fieldline.streams.internal.QuotaLedger;
import io.fieldline.streams.internal.RegistryOutage;
import io.fieldline.streams.internal.StatusLedgerUpdater;
import io.fieldline.streams.internal.RequestValidator;
import io.fieldline.streams.internal.StatusProcessor;
import io.fieldline.streams.internal.ValidateProcessor;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The Fieldline generation pipeline as a Kafka Streams topology (docs/DESIGN.md sections 3 and 4):
 *
 * <pre>
 * requests (raw) -> validate -> samples (one per image)      -> generator -> images
 *                            \-> progress (ACCEPTED/REJECTED)            \-> progress -> status
 *                            \-> requests.dlq (raw, error headers)
 * control (CancelRequest) -> global store "cancellations" (read by every generator)
 * status                  -> global store "open-requests" (unfinished images per client, for admission)
 * </pre>
 *
 * <p>Admission: a valid request is accepted only while its client's unfinished images and the pipeline's stay within
 * {@link PipelineLimits#maxQueuedPerClient()} and {@link PipelineLimits#maxQueued()}; every instance counts them from
 * the status topic, so the bound holds across instances up to about one commit interval of lag.
 *
 * <p>Exactly once: the application runs with {@code exactly_once_v2}; the ODE runs on the device engines' threads,
 * never inside a transaction; finished images are forwarded and their tasks deleted from the changelogged store in the
 * same transaction by a wall-clock punctuator.
 */
public final class FieldlinePipeline implements AutoCloseable {
  /**
   * The default commit interval, in ms, instead of Kafka Streams' 100 ms under exactly-once. Each commit is a
   * transaction over every partition the pipeline wrote to; at 10 a second they cost a measurable share of a small
   * host's cores. An image already takes seconds of compute, so up to half a second more per hop is invisible
   * to users. In the load harness Kafka's Java threads used 1.4-2.4 CPU seconds per 256 images at 500 ms against
   * 1.5-2.9 s at 100 ms, and the broker writes a fifth of the transaction markers
   * (docs/BENCHMARKS.md). Override with commit.interval.ms where latency matters more, as the demo does.
   * Two hops commit sooner, where waiting batches nothing: a request admitted while the engines are idle, and a
   * generator task whose last sample in flight has ended.
   */
  public static final int DEFAULT_COMMIT_INTERVAL_MS = 500;

  private final Topics topics;
  private final SchemaRegistryClient registry;
  private final ModelCatalog catalog;
  private final PipelineLimits limits;
  private final InstantSource clock;
  private final Duration interval;
  private final DeviceEngines engines;
  private final PipelineMetrics metrics;
  private final QuotaLedger ledger;
  private final AtomicLong cancellationsSeen = new AtomicLong();
  private final RegistryOutage outage;

  private FieldlinePipeline(Builder b) {
    this.topics = b.topics;
    this.registry = b.registry;
    this.catalog = b.catalog;
    this.limits = b.limits;
    this.clock = b.clock;
    this.interval = b.interval;
    this.metrics = b.metrics;
    // Twice the admission bound: admission counts lag across instances by about a commit interval, and one
    // instance's engines may hold most of the pipeline's work after a rebalance.
    int engineQueue = (int) Math.min(Integer.MAX_VALUE, 2L * b.limits.maxQueued());
    this.engines = new DeviceEngines(b.catalog, b.device, b.maxBatchSize, engineQueue, b.workers, b.clock,
        b.engineThreads, b.metrics);
    this.ledger = new QuotaLedger(b.clock, OWN_ACCEPTANCE_TTL);
    b.metrics.unfinishedImages(ledger::unfinished);
    this.outage = new RegistryOutage(b.clock, d -> Thread.sleep(d.toMillis()), b.registryBlock, b.registryMaxWait);
    b.metrics.registryOutage(outage::retries, outage::waiting);
  }

  /** How long this instance counts its own acceptances before the status topic must have taken over. */
  static final Duration OWN_ACCEPTANCE_TTL = Duration.ofMinutes(2);

  public static Builder builder() {
    return new Builder();
  }

  /** The topics this pipeline reads and writes. */
  public Topics topics() {
    return topics;
  }

  /**
   * The device engines, package-private (an internal type): tests in this package step them by hand when the
   * pipeline is built with {@code optEngineThreads(false)}.
   */
  DeviceEngines engines() {
    return engines;
  }

  /**
   * Loads the engines of a model's newest ready version now, in the caller, so its first request does not wait for the
   * copies to load (they are otherwise created on the loader thread at the first sample). On a cold start a version
   * that fails to load is passed over for the next older one.
   *
   * @return false if the catalog has no such model
   * @throws io.fieldline.server.ModelException if no version of it loads (the last failure)
   */
  public boolean prepare(String model) {
    while (true) {
      var entry = catalog.resolve(model, null); // throws once every version has failed
      if (entry.isEmpty()) {
        return false;
      }
      try {
        engines.prepare(entry.get());
        return true;
      } catch (RuntimeException e) {
        if (catalog.resolve(model, null).equals(entry)) {
          throw e; // a named or single version: nothing older to fall back on
        }
      }
    }
  }

  /** The processor topology. */
  public Topology topology() {
    AvroSerde<GenerationRequest> requestSerde = new AvroSerde<>(registry, GenerationRequest.class, false);
    AvroSerde<SampleTask> sampleSerde = new AvroSerde<>(registry, SampleTask.class, false);
    AvroSerde<ProgressEvent> progressSerde = new AvroSerde<>(registry, ProgressEvent.class, false);
    AvroSerde<GeneratedImage> imageSerde = new AvroSerde<>(registry, GeneratedImage.class, false);
    AvroSerde<GenerationStatus> statusSerde = new AvroSerde<>(registry, GenerationStatus.class, false);
    AvroSerde<CancelRequest> cancelSerde = new AvroSerde<>(registry, CancelRequest.class, false);
    RequestValidator validator = new RequestValidator(catalog, limits);

    Topology t = new Topology();
    t.addSource("requests", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(), topics.requests());
    t.addProcessor("validate", () -> new ValidateProcessor(topics, requestSerde.deserializer(), validator, clock,
        metrics::rejected, ledger, limits, outage, engines::idle), "requests");
    t.addSink(ValidateProcessor.TO_SAMPLES, topics.samples(), Serdes.String().serializer(), sampleSerde.serializer(),
        "validate");
    t.addSink(ValidateProcessor.TO_PROGRESS, topics.progress(), Serdes.String().serializer(),
        progressSerde.serializer(), "validate");
    t.addSink(ValidateProcessor.TO_DLQ, topics.deadLetters(), Serdes.String().serializer(),
        Serdes.ByteArray().serializer(), "validate");

    t.addSource("samples", Serdes.String().deserializer(), sampleSerde.deserializer(), topics.samples());
    t.addProcessor("generator", () -> new GeneratorProcessor(catalog, engines, clock, interval, cancellationsSeen), "samples");
    // Cached: a sample that ends within the commit interval it began in (most, with a fast network) costs one
    // changelog record and one RocksDB write (the delete) instead of two of each.
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(GeneratorProcessor.PENDING_STORE),
        Serdes.String(), new BinarySerde<>(SampleTask.class)).withCachingEnabled(), "generator");
    t.addSink(GeneratorProcessor.TO_IMAGES, topics.images(), Serdes.String().serializer(), imageSerde.serializer(),
        "generator");
    t.addSink(GeneratorProcessor.TO_PROGRESS, topics.progress(), Serdes.String().serializer(),
        progressSerde.serializer(), "generator");

    t.addSource("progress", Serdes.String().deserializer(), progressSerde.deserializer(), topics.progress());
    t.addProcessor("status", () -> new StatusProcessor(interval), "progress");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StatusProcessor.PROGRESS_STORE),
        Serdes.String(), new BinarySerde<>(RequestProgress.class)).withCachingEnabled(), "status"); // one changelog
    // record per request and commit, not one per image
    t.addSink("status-sink", topics.status(), Serdes.String().serializer(), statusSerde.serializer(), "status");

    t.addGlobalStore(Stores.timestampedKeyValueStoreBuilder(
            Stores.persistentTimestampedKeyValueStore(GeneratorProcessor.CANCELLATIONS_STORE), Serdes.String(),
            new BinarySerde<>(CancelRequest.class)).withLoggingDisabled(), "control", Serdes.String().deserializer(),
        outage.patient(cancelSerde.deserializer()), topics.control(), "cancellations", () -> new CancellationUpdater(cancellationsSeen));
    t.addGlobalStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(StatusLedgerUpdater.OPEN_REQUESTS_STORE), Serdes.String(), statusSerde)
            .withLoggingDisabled(), "status-source", Serdes.String().deserializer(),
        outage.patient(statusSerde.deserializer()),
        topics.status(), "open-requests", () -> new StatusLedgerUpdater(ledger));
    return t;
  }

  /**
   * Starts the pipeline. {@code kafka} holds any Kafka Streams / client settings (bootstrap.servers, SASL/SSL, ...);
   * exactly_once_v2 is set unless the caller set a processing guarantee, and commit.interval.ms is
   * {@value #DEFAULT_COMMIT_INTERVAL_MS} unless the caller set one.
   */
  public KafkaStreams start(Properties kafka) {
    KafkaStreams streams = create(kafka);
    streams.start();
    return streams;
  }

  /**
   * Sets BACKWARD_TRANSITIVE compatibility on the subjects of the topics this pipeline reads from clients, so a
   * producer can only register request schemas every running version of the pipeline can read (best effort: a
   * registry that refuses config changes is reported, not fatal).
   *
   * @return a warning, or null
   */
  public String guardSchemaEvolution() {
    try {
      for (String topic : new String[] {topics.requests(), topics.control()}) {
        registry.setCompatibility(topic + "-value", "BACKWARD_TRANSITIVE");
      }
      return null;
    } catch (RuntimeException e) {
      return "could not set BACKWARD_TRANSITIVE compatibility on the request subjects: " + e.getMessage();
    }
  }

  /** Like {@link #start} but not started, so listeners can be set first. */
  public KafkaStreams create(Properties kafka) {
    // Aliases (exact:...) have no model.json for the validator to check requests against while they load: load them
    // here, before any stream thread runs. Bundles are described from model.json and load on the loader threads.
    catalog.loadAliases();
    Properties p = new Properties();
    p.putAll(kafka);
    p.putIfAbsent(StreamsConfig.APPLICATION_ID_CONFIG, "fieldline");
    p.putIfAbsent(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.putIfAbsent(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, String.valueOf(DEFAULT_COMMIT_INTERVAL_MS));
    KafkaStreams streams = new KafkaStreams(topology(), p);
    // A registry outage ends a stream thread without committing past its record; a new thread re-reads the record
    // and waits again, until the outage has lasted the configured wait. Anything else stops the client, as before.
    streams.setUncaughtExceptionHandler(e -> outage.shouldRetry(e)
        ? StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD
        : StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    return streams;
  }

  /**
   * Registers the schemas this pipeline writes (samples, progress, images, status) before it joins the group, so
   * producing never needs the registry on the hot path, and waits for the registry if it does not answer: retries with
   * capped back-off until {@code maxWait}, telling {@code waiting} each time what it waits for.
   *
   * @throws io.fieldline.streams.registry.RegistryException if the registry refuses (not transient) or the wait runs
   *     out
   */
  public void registerSchemas(Duration maxWait, java.util.function.Consumer<String> waiting)
      throws InterruptedException {
    Map<String, org.apache.avro.Schema> writes = new java.util.LinkedHashMap<>();
    writes.put(topics.samples(), SampleTask.getClassSchema());
    writes.put(topics.progress(), ProgressEvent.getClassSchema());
    writes.put(topics.images(), GeneratedImage.getClassSchema());
    writes.put(topics.status(), GenerationStatus.getClassSchema());
    try {
      registry.waitingOutOutages(() -> {
        for (Map.Entry<String, org.apache.avro.Schema> w : writes.entrySet()) {
          registry.register(w.getKey() + "-value", w.getValue()); // cached once registered: a retry skips it
        }
        return null;
      }, maxWait, waiting);
    } catch (InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Stops waiting out schema-registry outages (call before closing Kafka Streams): threads that wait for the registry
   * give up at their next retry, leaving their records uncommitted for the next start, so the close is not held up.
   */
  public void stopWaitingForRegistry() {
    outage.stop();
  }

  /** Stops the engines (close KafkaStreams first). */
  @Override
  public void close() {
    engines.close();
  }

  /** Builder: {@code setRegistry} and {@code setCatalog} required. */
  public static final class Builder {
    private Duration registryBlock = Duration.ofSeconds(5);
    private Duration registryMaxWait = Duration.ofMinutes(10);
    private Topics topics = Topics.defaults();
    private SchemaRegistryClient registry;
    private ModelCatalog catalog;
    private PipelineLimits limits = PipelineLimits.defaults();
    private String device = "cpu";
    private int maxBatchSize = 64;
    private int workers = 1;
    private InstantSource clock = InstantSource.system();
    private boolean engineThreads = true;
    private Duration interval = Duration.ofMillis(100);
    private PipelineMetrics metrics = PipelineMetrics.none();

    private Builder() {}

    public Builder setRegistry(SchemaRegistryClient registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    public Builder setCatalog(ModelCatalog catalog) {
      this.catalog = Objects.requireNonNull(catalog, "catalog");
      return this;
    }

    public Builder optTopics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    public Builder optLimits(PipelineLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /** The device name of this instance's engines. Default {@code cpu}. */
    public Builder optDevice(String device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /** Engine batch size. Default 64. */
    public Builder optMaxBatchSize(int maxBatchSize) {
      this.maxBatchSize = maxBatchSize;
      return this;
    }

    /**
     * Engines per model version, each with its own copy of the model and its own thread. Default 1. On the CPU, one
     * per core with single-threaded models ({@code ModelLoader.optThreadsPerModel(1)}) is usually fastest
     * ({@code ModelLoader.workersFor(device)}).
     */
    public Builder optWorkers(int workers) {
      if (workers < 1) {
        throw new IllegalArgumentException("workers must be >= 1, got " + workers);
      }
      this.workers = workers;
      return this;
    }

    /**
     * How a schema-registry outage is ridden out: a request whose schema cannot be fetched waits on its stream thread
     * up to {@code blockPerRecord} (retrying with back-off; keep it under the exactly-once transaction.timeout.ms,
     * 10 s by default, and max.poll.interval.ms), then the thread is replaced and the record re-read from the last
     * commit, until the registry has been unreachable for {@code maxWait} in a row, when the pipeline stops with an
     * error. Never a rejection: the outage is not the request's fault. Defaults 5 s and 10 minutes.
     */
    public Builder optRegistryWait(Duration blockPerRecord, Duration maxWait) {
      if (blockPerRecord.isNegative() || maxWait.isNegative()) {
        throw new IllegalArgumentException("registry waits must not be negative");
      }
      this.registryBlock = blockPerRecord;
      this.registryMaxWait = maxWait;
      return this;
    }

    /** Clock for deadlines and timestamps. Default the system clock. */
    public Builder optClock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** false: engines do not get threads (tests step them). Default true. */
    public Builder optEngineThreads(boolean engineThreads) {
      this.engineThreads = engineThreads;
      return this;
    }

    /**
     * How often finished samples are collected and RUNNING statuses of requests that progressed are emitted
     * (wall-clock punctuation). Default 100 ms.
     */
    public Builder optCollectInterval(Duration interval) {
      this.interval = Objects.requireNonNull(interval, "interval");
      return this;
    }

    /** Where the pipeline's meters go (e.g. a Prometheus registry). Default: nowhere. */
    public Builder optMetrics(PipelineMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    public FieldlinePipeline build() {
      if (registry == null || catalog == null) {
        throw new IllegalStateException("FieldlinePipeline needs setRegistry and setCatalog");
      }
      return new FieldlinePipeline(this);
    }
  }
}

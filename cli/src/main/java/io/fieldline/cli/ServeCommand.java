package io.fieldline.cli;

import io.fieldline.cli.internal.ClusterOptions;
import io.fieldline.server.ModelCatalog;
import io.fieldline.streams.PipelineMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.fieldline.server.ModelLoader;
import io.fieldline.streams.FieldlinePipeline;
import io.fieldline.streams.HealthServer;
import io.fieldline.streams.PipelineLimits;
import io.fieldline.streams.TopicSetup;
import io.fieldline.streams.Topics;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline serve}: the generation pipeline against an existing Kafka cluster. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs the exactly-once generation pipeline on an existing Kafka cluster and schema registry until "
        + "stopped (SIGTERM or Ctrl-C close it cleanly; after a crash the next start resumes the unfinished images).",
        "Instances with the same --application-id share the work; the topics must exist (see docs)."})
final class ServeCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  io.fieldline.cli.internal.EngineOptions engine;

  @Option(names = "--models-dir", paramLabel = "DIR", defaultValue = Fieldline.MODELS_DIR,
      description = "Model bundles by name (<dir>/<name>/model.json or <dir>/<name>/<version>/model.json). "
          + "Default: the models/ folder of the checkout that ./fieldline runs from, else ./models.")
  Path modelsDir;

  @Option(names = "--alias", paramLabel = "NAME=SPEC", description = "Offer a model specification under a name, "
      + "e.g. fashion-mnist-exact=exact:fashion-mnist (repeatable).")
  Map<String, String> aliases = new LinkedHashMap<>();

  @Option(names = "--exact-size", paramLabel = "N", defaultValue = "256",
      description = "Images behind exact-field models. Default: ${DEFAULT-VALUE}.")
  int exactSize;

  @Option(names = "--max-count", paramLabel = "N", defaultValue = "10000",
      description = "Most images one request may ask for; larger requests are REJECTED. Default: ${DEFAULT-VALUE}.")
  int maxCount;

  @Option(names = "--max-queued-per-client", paramLabel = "N", defaultValue = "20000",
      description = "Most unfinished images (accepted, not yet ended) of one client id; a request that would pass it "
          + "is REJECTED with the numbers. Requests without a client id share one quota. Default: ${DEFAULT-VALUE}.")
  int maxQueuedPerClient;

  @Option(names = "--max-queued", paramLabel = "N", defaultValue = "50000",
      description = "Most unfinished images in the whole pipeline (all clients, all instances); also sizes the "
          + "engines' queues, which keeps memory bounded. Default: ${DEFAULT-VALUE}.")
  int maxQueued;

  @Option(names = "--application-id", paramLabel = "ID", defaultValue = "fieldline",
      description = "Kafka Streams application id; instances with the same id share the work. "
          + "Default: ${DEFAULT-VALUE}.")
  String applicationId;

  @Option(names = "--state-dir", paramLabel = "DIR", description = "Kafka Streams state directory. Default: "
      + "Kafka Streams' default.")
  Path stateDir;

  @Option(names = "--stats-every", paramLabel = "DURATION", defaultValue = "PT5S",
      description = "How often to print this instance's completed-image count (ISO-8601, e.g. PT5S). "
          + "Default: ${DEFAULT-VALUE}.")
  Duration statsEvery;

  @Option(names = "--create-topics", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Create the pipeline's missing topics at start (samples with --samples-partitions partitions, the "
          + "others with --partitions, status compacted). --no-create-topics only checks, for clusters where "
          + "applications may not create topics: a missing topic stops serve with status 2 and its name. "
          + "Default: create.")
  boolean createTopics;

  @Option(names = "--partitions", paramLabel = "N", defaultValue = "2", description = "Partitions of the topics "
      + "serve creates (requests, control, progress, images, status, dead letters). Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(names = "--samples-partitions", paramLabel = "N", defaultValue = "4", description = "Partitions of the "
      + "samples topic serve creates: at most this many instances share one request's images. "
      + "Default: ${DEFAULT-VALUE}.")
  int samplesPartitions;

  @Option(names = "--replication-factor", paramLabel = "R", description = "Replication factor of the topics serve "
      + "creates. Default: the broker's default.replication.factor.")
  Short replicationFactor;

  @Option(names = "--registry-wait", paramLabel = "DURATION", defaultValue = "PT10M",
      description = "How long to ride out a schema-registry outage (ISO-8601): at start, serve waits this long for the "
          + "registry; later, a request whose schema cannot be fetched waits and is retried, never rejected, until "
          + "the registry has been unreachable this long in a row, when serve stops with status 1 (nothing lost: "
          + "unprocessed requests stay in their topic). Default: ${DEFAULT-VALUE}.")
  Duration registryWait;

  @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9464",
      description = "HTTP port of /metrics (Prometheus text), /health (liveness) and /ready (Kafka Streams RUNNING); "
          + "0 picks a free port (printed at start), -1 turns it off. Default: ${DEFAULT-VALUE}.")
  int metricsPort;

  /** Creates (or with --no-create-topics checks) the pipeline's topics. */
  private void ensureTopics(Properties props, PrintWriter stdout) throws InterruptedException {
    Map<String, Object> admin = new java.util.HashMap<>();
    props.forEach((k, v) -> admin.put(k.toString(), v));
    admin.remove(StreamsConfig.APPLICATION_ID_CONFIG);
    admin.remove(StreamsConfig.STATE_DIR_CONFIG);
    TopicSetup setup;
    try {
      setup = new TopicSetup(partitions, samplesPartitions, java.util.Optional.ofNullable(replicationFactor));
    } catch (IllegalArgumentException e) {
      throw new Fieldline.UsageException(e.getMessage());
    }
    try (org.apache.kafka.clients.admin.Admin client = org.apache.kafka.clients.admin.Admin.create(
        org.apache.kafka.clients.admin.AdminClientConfig.configNames().stream().filter(admin::containsKey)
            .collect(java.util.stream.Collectors.toMap(k -> k, admin::get)))) {
      List<String> created = setup.ensure(client, cluster.topics(), createTopics);
      if (!created.isEmpty()) {
        stdout.println("created topics " + created);
        stdout.flush();
      }
    } catch (IllegalStateException e) {
      throw new Fieldline.UsageException(e.getMessage());
    }
  }

  @Mixin
  ClusterOptions cluster;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    Properties props = cluster.kafkaSettings();
    String bootstrap = cluster.bootstrap;
    String registry = cluster.registry;
    String prefix = cluster.prefix;
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    if (stateDir != null) {
      props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    }
    stdout.printf("kafka settings: %s%n", io.fieldline.streams.Secrets.describe(props)); // secrets as [hidden]
    String device = engine.device;
    int engines = engine.engines();
    ModelCatalog.Builder catalogBuilder = ModelCatalog.builder().optListener(message -> {
          stdout.println("models: " + message); // a new version ready, or one that failed and is not served
          stdout.flush();
        })
        .optLoader(engine.applyTo(ModelLoader.builder().optExactSize(exactSize))
            .optEngines(engines).build());
    if (Files.isDirectory(modelsDir)) {
      catalogBuilder.optModelsDir(modelsDir);
    }
    aliases.forEach(catalogBuilder::optAlias);
    SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry).build();
    CountDownLatch stopped = new CountDownLatch(1);
    CountDownLatch cleanedUp = new CountDownLatch(1);
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PipelineMetrics metrics = new PipelineMetrics(prometheus);
    try {
      try (ModelCatalog catalog = catalogBuilder.build();
           FieldlinePipeline pipeline = FieldlinePipeline.builder().setRegistry(client).setCatalog(catalog)
               .optTopics(Topics.withPrefix(prefix)).optDevice(device)
               .optLimits(PipelineLimits.defaults().withMaxCount(maxCount)
                   .withQueueBounds(maxQueuedPerClient, maxQueued))
               .optMaxBatchSize(engine.batch).optWorkers(engines).optMetrics(metrics)
               .optRegistryWait(Duration.ofSeconds(5), registryWait).build()) {
        java.util.concurrent.atomic.AtomicReference<KafkaStreams> streamsRef = new java.util.concurrent.atomic
            .AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<String> waiting = new java.util.concurrent.atomic.AtomicReference<>(
            "registering schemas");
        HealthServer http = metricsPort < 0 ? null : HealthServer.start(
            metricsPort, prometheus::scrape, streamsRef::get, waiting::get);
        if (http != null) {
          stdout.printf("metrics on http://localhost:%d/metrics (and /health, /ready)%n", http.port());
          stdout.flush();
        }
        try {
          ensureTopics(props, stdout);
          // Before joining the group: the schemas serve writes are registered (waiting for a registry that is down), so
          // producing never needs the registry later.
          pipeline.registerSchemas(registryWait, message -> {
            waiting.set(message);
            stdout.println(message);
            stdout.flush();
          });
          // Load every model's engine copies now, before joining the group, so no request waits for a load on a stream
          // thread. A model that does not load is reported and skipped: its requests are rejected with the reason.
          for (String name : catalog.names()) {
            waiting.set("loading model " + name);
            try {
              if (pipeline.prepare(name)) {
                stdout.println("models: " + name + " ready (" + engines + " engine cop" + (engines == 1 ? "y" : "ies")
                    + ")");
              }
            } catch (RuntimeException e) {
              stdout.println("models: " + name + " is not served: " + e.getMessage());
            }
            stdout.flush();
          }
          String warning = pipeline.guardSchemaEvolution();
          if (warning != null) {
            spec.commandLine().getErr().println("warning: " + warning);
          }
          KafkaStreams streams = pipeline.create(props);
          streamsRef.set(streams);
          java.util.concurrent.atomic.AtomicBoolean announced = new java.util.concurrent.atomic.AtomicBoolean();
          streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING && announced.compareAndSet(false, true)) {
              stdout.printf("ready: consuming %s as %s (Kafka Streams RUNNING)%n", prefix + "requests",
                  applicationId);
              stdout.flush();
            }
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
              stopped.countDown();
            }
          });
          new KafkaStreamsMetrics(streams).bindTo(prometheus);
          // heap, for bounded memory
          new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(prometheus);
          streams.start();
          Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            pipeline.stopWaitingForRegistry(); // a thread waiting out a registry outage must not hold the close up
            boolean clean = streams.close(Duration.ofSeconds(30)) && streams.state() != KafkaStreams.State.ERROR;
            stopped.countDown();
            try { // let the main thread close the pipeline, the models and the HTTP endpoints first
              cleanedUp.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            // SIGTERM is how operators stop serve: a clean close exits 0 (not the JVM's 143), a failed one 1.
            Runtime.getRuntime().halt(clean ? 0 : 1);
          }, "fieldline-shutdown"));
          stdout.printf("serving %s on %s (registry %s, device %s, %d engine%s per model, batch %d)%n",
              prefix + "requests", bootstrap, io.fieldline.streams.Secrets.maskUrl(registry),
              device + (device.startsWith("cpu") ? "" : " (" + String.join(" -> ",
                  io.fieldline.server.ExecutionDevice.parse(device, engine.trtCache).providers()) + ")"), engines,
              engines == 1 ? "" : "s", engine.batch);
          stdout.flush();
          long last = -1;
          while (!stopped.await(statsEvery.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            long now = (long) prometheus.find("fieldline.samples").tag("status", "completed").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
            if (now != last) {
              stdout.printf("stats: %d images completed by this instance's engines%n", now);
              stdout.flush();
              last = now;
            }
          }
          return streams.state() == KafkaStreams.State.ERROR ? 1 : 0;
        } finally {
          if (http != null) {
            http.close();
          }
        }
      }
    } finally {
      cleanedUp.countDown();
    }
  }
}

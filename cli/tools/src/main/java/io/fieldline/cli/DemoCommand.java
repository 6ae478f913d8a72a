package io.fieldline.cli;

import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.core.ImageShape;
import io.fieldline.schemas.ClassRequest;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.server.ContactSheet;
import io.fieldline.server.Pixels;
import io.fieldline.server.ModelCatalog;
import io.fieldline.server.ModelLoader;
import io.fieldline.streams.FieldlinePipeline;
import io.fieldline.streams.Topics;
import io.fieldline.streams.client.FieldlineClient;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline demo}: the whole pipeline on one machine, with real parts. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Starts a real Kafka broker (KRaft, in this JVM) and a real schema registry (Apicurio, child "
        + "process), runs the exactly-once generation pipeline, submits one request, writes the images it receives "
        + "(read_committed) and a grid, prints a summary and shuts everything down."})
final class DemoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  io.fieldline.cli.internal.EngineOptions engine;

  @Mixin
  io.fieldline.cli.internal.SamplerOptions sampler;

  @Option(names = "--count", paramLabel = "N", defaultValue = "64", description = "Images to request, 1..10000; on a "
      + "class-conditional model count / classes of each class (one grid row per class). Default: ${DEFAULT-VALUE}.")
  int count;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "out/demo", description = "Where the PNGs and "
      + "grid.png go. Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(names = "--model", paramLabel = "NAME", defaultValue = Fieldline.BUNDLED_MODEL, description = "The model "
      + "to ask for: a bundle name under --models-dir (the bundled int8 PFGM++ Fashion-MNIST network by default), or "
      + "fashion-mnist-exact (the exact field of 256 Fashion-MNIST images, no network). Default: ${DEFAULT-VALUE}.")
  String model;

  @Option(names = "--models-dir", paramLabel = "DIR", defaultValue = Fieldline.MODELS_DIR, description = "Model "
      + "bundles by name. Default: the models/ folder of the Fieldline checkout that ./fieldline runs from, else "
      + "./models.")
  Path modelsDir;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Request seed. Default: "
      + "${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--no-progress", description = "Do not draw the progress bar.")
  boolean noProgress;

  /** The model's classes (empty: unconditional), and the grid's columns (0: square). */
  private List<String> classes = List.of();
  private int columns;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    int engines = engine.engines();
    ModelCatalog.Builder catalogBuilder = ModelCatalog.builder().optAlias("fashion-mnist-exact",
        ModelLoader.DEFAULT_MODEL).optLoader(engine.applyTo(ModelLoader.builder().optEngines(engines)).build());
    if (Files.isDirectory(modelsDir)) {
      catalogBuilder.optModelsDir(modelsDir);
    }
    try (ModelCatalog catalog = catalogBuilder.build()) {
      if (catalog.resolve(model, null).isEmpty()) { // before starting anything: a typo should not cost a broker start
        throw new Fieldline.UsageException("no model '" + model + "' in " + modelsDir.toAbsolutePath().normalize()
            + " (use --models-dir, or --model fashion-mnist-exact for the exact field)");
      }
      classes = catalog.load(catalog.resolve(model, null).get()).classes();
      Files.createDirectories(out);
      Path state = Files.createTempDirectory("fieldline-demo");
      long t0 = System.nanoTime();
      stdout.println("starting Kafka (KRaft, in this JVM) and Apicurio Registry (child process)...");
      stdout.flush();
      try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
        Topics topics = Topics.defaults();
        kafka.createTopics(topics);
        SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
        try (FieldlinePipeline pipeline = FieldlinePipeline.builder().setRegistry(client).setCatalog(catalog)
            .optDevice(engine.device).optMaxBatchSize(engine.batch).optWorkers(engines)
            .optCollectInterval(Duration.ofMillis(50)).build()) {
          Properties props = new Properties();
          props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
          props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
          // One small interactive request: latency matters more than the transaction cost serve's default saves.
          props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
          pipeline.prepare(model); // load the engines' model copies before the clock for the first image starts
          KafkaStreams streams = pipeline.start(props);
          // Up means the stream tasks are assigned and running, so "first image after" measures generation, not the
          // consumer group's first rebalance.
          long upBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
          while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < upBy) {
            Thread.sleep(20);
          }
          double startup = (System.nanoTime() - t0) / 1e9;
          try {
            return run(stdout, kafka, client, topics, streams, startup);
          } finally {
            streams.close(Duration.ofSeconds(30));
          }
        }
      }
    }
  }

  private int run(PrintWriter stdout, LocalKafka kafka, SchemaRegistryClient client, Topics topics,
      KafkaStreams streams, double startup) throws Exception {
    String id = "demo-" + System.currentTimeMillis();
    SamplerSpec samplerSpec = sampler.solver == null ? null
        : SamplerSpec.newBuilder().setSolver(sampler.solver).setSteps(sampler.steps).build();
    // A class-conditional model shows every class: count / classes images of each, one grid row per class.
    ClassRequest perClass = null;
    if (!classes.isEmpty()) {
      int each = Math.max(1, count / classes.size());
      Map<String, Integer> counts = new java.util.LinkedHashMap<>();
      classes.forEach(c -> counts.put(c, each));
      perClass = ClassRequest.newBuilder().setCounts(counts).build();
      count = each * classes.size();
      columns = each;
    }
    GenerationRequest request = GenerationRequest.newBuilder().setRequestId(id).setModel(model).setCount(count)
        .setSeed(seed).setSampler(samplerSpec).setClasses(perClass).build();
    Map<Integer, byte[]> images = new TreeMap<>();
    FieldlineClient.Outcome outcome;
    long sent;
    try (FieldlineClient fieldline = FieldlineClient.builder().setBootstrapServers(kafka.bootstrapServers())
        .setRegistry(client).optTopics(topics).build()) {
      sent = System.nanoTime();
      fieldline.submit(request);
      stdout.printf(Locale.ROOT, "up in %.1f s; requested %d images of model %s (request %s)%n", startup, count,
          model, id);
      stdout.flush();
      ProgressBar bar = new ProgressBar(System.err, "images", count, !noProgress, System::nanoTime);
      outcome = fieldline.follow(id, Duration.ofMinutes(30), () -> streams.state().isRunningOrRebalancing(),
          (image, png) -> {
            images.put(image.getIndex(), png);
            Files.write(out.resolve(String.format(Locale.ROOT, "image-%04d.png", image.getIndex())), png);
            bar.update(images.size());
          });
    }
    GenerationStatus last = outcome.last();
    long nfe = outcome.nfe();
    double firstLatency = outcome.firstImageNanos() < 0 ? -1 : (outcome.firstImageNanos() - sent) / 1e9;
    double total = (System.nanoTime() - sent) / 1e9;
    if (!images.isEmpty()) {
      writeGrid(images);
    }
    stdout.printf(Locale.ROOT, "%s: %d of %d images in %.2f s (%.2f images/s); first image after %.2f s; NFE per "
            + "image %.1f; written to %s (grid: %s)%n", last == null ? "NO STATUS" : last.getState(), images.size(),
        count, total, images.size() / total, firstLatency, images.isEmpty() ? 0.0 : (double) nfe / images.size(), out,
        out.resolve("grid.png"));
    if (last != null && last.getReason() != null) {
      stdout.println("reason: " + last.getReason());
    }
    stdout.flush();
    return last != null && last.getState() == RequestState.DONE ? 0 : 1;
  }

  private void writeGrid(Map<Integer, byte[]> images) throws Exception {
    List<double[]> samples = new ArrayList<>();
    ImageShape shape = null;
    for (byte[] png : images.values()) {
      Pixels.Decoded image = Pixels.fromPng(png);
      shape = image.shape();
      samples.add(image.x());
      if (samples.size() == 256) {
        break;
      }
    }
    Files.write(out.resolve("grid.png"), ContactSheet.png(samples, shape, columns, 2,
        Map.of("Software", "Fieldline")));
  }
}

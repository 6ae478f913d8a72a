package io.fieldline.bench;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.server.ModelCatalog;
import io.fieldline.server.ModelLoader;
import io.fieldline.streams.FieldlinePipeline;
import io.fieldline.streams.PipelineMetrics;
import io.fieldline.streams.Topics;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.client.FieldlineClient;
import io.fieldline.streams.registry.SchemaRegistryClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The end-to-end load harness: in one run, on one machine, the bare engine and the exactly-once pipeline (real local
 * KRaft broker, real Apicurio registry) generate the same images with the same model, so their ratios mean something.
 * Prints a markdown table for docs/BENCHMARKS.md.
 *
 * <p>Usage: {@code java -cp ... io.fieldline.bench.PipelineLoadHarness [images] [exact-size] [workers] [model] [rounds]}:
 * workers 0 (default) is serve's default layout (one engine per core on the CPU, single-threaded models), and the
 * bare engine runs the same layout; model is a specification (default the exact Fashion-MNIST field, or a bundle
 * directory); rounds (default 1) repeats the two throughput phases, the first of which still pays for C2 compiling
 * the Kafka code.
 */
public final class PipelineLoadHarness {
  private static final String MODEL = "bench-model";
  private static final String KAFKA_PREFIX = "fieldline.bench.kafka.";
  /** The exact field with one Euler step: images at ~1 ms, so thousands of them drive every Kafka path hot quickly. */
  private static final String CHEAP_MODEL = "bench-warm-up";
  private static final int JIT_WARM_UP_IMAGES = Integer.getInteger("fieldline.bench.warmUpImages", 4000);

  private PipelineLoadHarness() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int exactSize = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    int workers = ModelLoader.workersFor("cpu", args.length > 2 ? Integer.parseInt(args[2]) : 0);
    String spec = args.length > 3 ? args[3] : ModelLoader.DEFAULT_MODEL;
    int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 1;
    ModelLoader loader = ModelLoader.builder().optExactSize(exactSize).optEngines(workers).build();
    SamplerSettings sampler;
    try (FieldModel probe = loader.load(spec)) {
      sampler = probe.defaultSampler(); // what requests that name no sampler get
    }
    Path dir = Files.createTempDirectory("fieldline-bench");
    List<String> rows = new ArrayList<>();
    List<String> cpuRows = new ArrayList<>();

    // 1. The bare engines: n samples, batch 64, the same layout as the pipeline, no Kafka (after a warm-up run).
    double bare = bare(loader, spec, workers, sampler, n, "bare engines, " + n + " images", cpuRows);
    rows.add(String.format(Locale.ROOT, "| bare engines (%d), %d samples, batch 64, %s | %.2f images/s | 1.00 |",
        workers, n, sampler.describe(), bare));

    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      Topics topics = Topics.defaults();
      kafka.createTopics(topics);
      SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
      PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry());
      try (ModelCatalog catalog = ModelCatalog.builder().optAlias(MODEL, spec)
               .optAlias(CHEAP_MODEL, ModelLoader.DEFAULT_MODEL).optLoader(loader).build();
           FieldlinePipeline pipeline = FieldlinePipeline.builder().setRegistry(client).setCatalog(catalog)
               .optWorkers(workers).optCollectInterval(Duration.ofMillis(50)).optMetrics(metrics).build()) {
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
        if (System.getProperty("fieldline.bench.commitMs") != null) { // else the pipeline's default
          props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, System.getProperty("fieldline.bench.commitMs"));
        }
        // -Dfieldline.bench.kafka.NAME=VALUE passes any Kafka Streams or client setting NAME to the pipeline.
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith(KAFKA_PREFIX))
            .forEach(k -> props.put(k.substring(KAFKA_PREFIX.length()), System.getProperty(k)));
        KafkaStreams streams = pipeline.start(props);
        try (FieldlineClient fieldline = FieldlineClient.builder().setBootstrapServers(kafka.bootstrapServers())
            .setRegistry(client).optTopics(topics).build();
             FieldlineClient.ImageReader images = fieldline.openImageReader(Duration.ofMinutes(1))) {
          // Warm-up: model load, schema registration, group join, and the JIT of every hop (ours and the registry's,
          // whose child process otherwise competes for the cores during the first measured request). At the network's
          // ~8 images/s the Kafka code paths (broker, clients, streams) take minutes to reach C2, which then spends
          // core-seconds compiling them during the measurement (JFR: ~7 s of C2 in a 35 s phase, each large Kafka
          // method ~0.5-2 s), a start-up cost a long-running server pays once. So the paths are first driven hot with
          // thousands of cheap images (large and one-image requests), then the measured model runs a batch per engine.
          long jit0 = CpuMeter.jitMillis();
          long w0 = System.nanoTime();
          Map<String, Integer> cheap = new HashMap<>();
          for (int i = 0; i < JIT_WARM_UP_IMAGES / 2 / 250; i++) {
            send(fieldline, "jit-big-" + i, 250, 500 + i, 0, CHEAP_MODEL, CHEAP_SAMPLER);
            cheap.put("jit-big-" + i, 250);
          }
          for (int i = 0; i < JIT_WARM_UP_IMAGES / 2; i++) {
            send(fieldline, "jit-small-" + i, 1, 9000 + i, 0, CHEAP_MODEL, CHEAP_SAMPLER);
            cheap.put("jit-small-" + i, 1);
          }
          receive(images, cheap, new HashMap<>());
          System.err.printf(Locale.ROOT, "JIT warm-up: %d cheap images in %.1f s, %.1f s of compilation%n",
              JIT_WARM_UP_IMAGES, (System.nanoTime() - w0) / 1e9, (CpuMeter.jitMillis() - jit0) / 1e3);
          send(fieldline, "warmup", 64 * workers, 99, 0);
          receive(images, Map.of("warmup", 64 * workers), new HashMap<>());
          Thread.sleep(2000);

          // Rounds: the first still pays C2 compiling Kafka's code (a server's first minutes); later rounds show the
          // steady state a long-running server settles into.
          for (int round = 1; round <= rounds; round++) {
            String tag = rounds > 1 ? ", round " + round : "";
            String big = "one-big-" + round;
            if (round > 1) {
              // Per-image engine cost drifts by several percent between phases on a shared VM, so each later round
              // is compared with bare engines measured right before it (broker idle), not with the first phase.
              bare = bare(loader, spec, workers, sampler, n, "bare engines" + tag, cpuRows);
              rows.add(String.format(Locale.ROOT, "| bare engines%s | %.2f images/s | 1.00 |", tag, bare));
            }
            long t0 = System.nanoTime();
            CpuMeter cpu = new CpuMeter();
            Passes passes = Passes.of(metrics);
            send(fieldline, big, n, 1, 0);
            Map<String, Long> firstAt = new HashMap<>();
            receive(images, Map.of(big, n), new HashMap<>(), firstAt);
            double oneBig = n / ((System.nanoTime() - t0) / 1e9);
            cpuRows.add(cpu.stop().row("pipeline, one " + n + "-image request" + tag, n));
            System.err.println("busiest threads, one large request" + tag + ": " + cpu.topThreads(16));
            System.err.println("forward passes, one large request" + tag + ": " + passes.since(metrics));
            rows.add(String.format(Locale.ROOT, "| pipeline, one %d-image request%s (first image after %.0f ms) | "
                + "%.2f images/s | %.2f |", n, tag, (firstAt.get(big) - t0) / 1e6, oneBig, oneBig / bare));

            // Many one-image requests, sent one by one (each send waits for the broker's acknowledgement, as
            // independent clients would) and then as one batch (submitAll, as a bulk feed would).
            for (boolean batched : new boolean[] {false, true}) {
              String how = batched ? " (sent as a batch)" : " (sent one by one)";
              t0 = System.nanoTime();
              cpu = new CpuMeter();
              passes = Passes.of(metrics);
              Map<String, Integer> many = new HashMap<>();
              List<GenerationRequest> batch = new ArrayList<>();
              for (int i = 0; i < n; i++) {
                String id = "small-" + round + (batched ? "-b-" : "-s-") + i;
                GenerationRequest r = request(id, 1, 1000 + i, 0, MODEL, null);
                if (batched) {
                  batch.add(r);
                } else {
                  fieldline.submit(r);
                }
                many.put(id, 1);
              }
              if (batched) {
                fieldline.submitAll(batch);
              }
              double sentIn = (System.nanoTime() - t0) / 1e9; // the client's own pace, on the same cores
              receive(images, many, new HashMap<>());
              double manySmall = n / ((System.nanoTime() - t0) / 1e9);
              System.err.println("busiest threads, one-image requests" + how + tag + ": " + cpu.topThreads(16));
              System.err.println("forward passes, one-image requests" + how + tag + ": " + passes.since(metrics));
              cpuRows.add(cpu.stop().row("pipeline, " + n + " one-image requests" + how + tag, n));
              rows.add(String.format(Locale.ROOT, "| pipeline, %d one-image requests%s%s (all sent after %.0f ms) | "
                  + "%.2f images/s | %.2f |", n, how, tag, sentIn * 1e3, manySmall, manySmall / bare));
              rows.add(String.format(Locale.ROOT, "| (%d one-image requests%s) / (one %d-image request)%s | | %.2f |",
                  n, how, n, tag, manySmall / oneBig));
            }
          }

          // Latency of small urgent requests during a bulk load.
          send(fieldline, "bulk", 2 * n, 7, 0);
          Map<String, Integer> urgent = new HashMap<>();
          Map<String, Long> sentAt = new HashMap<>();
          Map<String, Long> doneAt = new HashMap<>();
          urgent.put("bulk", 2 * n);
          for (int i = 0; i < 20; i++) {
            Thread.sleep(300);
            String id = "urgent-" + i;
            sentAt.put(id, System.nanoTime());
            send(fieldline, id, 1, 5000 + i, 10);
            urgent.put(id, 1);
          }
          receive(images, urgent, doneAt);
          List<Double> latencies = new ArrayList<>();
          for (String id : sentAt.keySet()) {
            latencies.add((doneAt.get(id) - sentAt.get(id)) / 1e6);
          }
          latencies.sort(Double::compare);
          rows.add(String.format(Locale.ROOT, "| latency of 20 one-image priority-10 requests during a %d-image bulk "
                  + "request | p50 %.0f ms, p99 %.0f ms | |", 2 * n, percentile(latencies, 0.5),
              percentile(latencies, 0.99)));
        } finally {
          streams.close(Duration.ofSeconds(30));
        }
      }
    }
    System.out.println("| measurement | result | ratio to bare engine |");
    System.out.println("|---|---|---|");
    rows.forEach(System.out::println);
    System.out.println();
    System.out.println("CPU seconds by consumer (2 cores = 2 CPU seconds per wall second):");
    System.out.println();
    System.out.println(CpuMeter.Usage.header());
    cpuRows.forEach(System.out::println);
  }

  /** Runs n samples on freshly loaded bare engines (after a short warm-up) and returns images/s. */
  private static double bare(ModelLoader loader, String spec, int workers, SamplerSettings sampler, int n,
      String label, List<String> cpuRows) throws InterruptedException {
    List<FieldModel> copies = loader.loadCopies(spec, workers);
    try {
      Flows.sampleAll(copies, sampler, "warm-up", 99, 4 * workers, 64, done -> { });
      long t0 = System.nanoTime();
      CpuMeter cpu = new CpuMeter();
      Flows.sampleAll(copies, sampler, "bare", 1, n, 64, done -> { });
      double rate = n / ((System.nanoTime() - t0) / 1e9);
      cpuRows.add(cpu.stop().row(label, n));
      return rate;
    } finally {
      copies.forEach(FieldModel::close);
    }
  }

  /** Forward passes of the measured model so far: how full the engines' batches were in a phase. */
  private record Passes(long count, double rows, double seconds) {
    static Passes of(PipelineMetrics metrics) {
      long count = 0;
      double rows = 0;
      double seconds = 0;
      for (var s : metrics.registry().find("fieldline.batch.rows").tag("model", MODEL).summaries()) {
        count += s.count();
        rows += s.totalAmount();
      }
      for (var t : metrics.registry().find("fieldline.batch").tag("model", MODEL).timers()) {
        seconds += t.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS) / 1e9;
      }
      return new Passes(count, rows, seconds);
    }

    String since(PipelineMetrics metrics) {
      Passes now = of(metrics);
      long c = now.count - count;
      if (c == 0) {
        return "no passes";
      }
      return String.format(Locale.ROOT, "%d passes, %.1f rows each, %.1f s in passes", c, (now.rows - rows) / c,
          now.seconds - seconds);
    }
  }

  private static final SamplerSpec CHEAP_SAMPLER = SamplerSpec.newBuilder().setSolver("euler").setSteps(1).build();

  private static void send(FieldlineClient fieldline, String id, int count, long seed, int priority) {
    send(fieldline, id, count, seed, priority, MODEL, null);
  }

  private static void send(FieldlineClient fieldline, String id, int count, long seed, int priority,
      String model, SamplerSpec sampler) {
    fieldline.submit(request(id, count, seed, priority, model, sampler));
  }

  private static GenerationRequest request(String id, int count, long seed, int priority, String model,
      SamplerSpec sampler) {
    return GenerationRequest.newBuilder().setRequestId(id).setModel(model).setCount(count).setSeed(seed)
        .setPriority(priority).setSampler(sampler).build();
  }

  /** Reads until every request has its count of images; records when each request finished. */
  private static void receive(FieldlineClient.ImageReader images, Map<String, Integer> expected,
      Map<String, Long> finishedAt) {
    receive(images, expected, finishedAt, new HashMap<>());
  }

  /** Like {@link #receive(FieldlineClient.ImageReader, Map, Map)}, also recording each request's first image. */
  private static void receive(FieldlineClient.ImageReader images, Map<String, Integer> expected,
      Map<String, Long> finishedAt, Map<String, Long> firstAt) {
    Map<String, Integer> counted = new HashMap<>();
    Map<String, Integer> got = images.await(expected, Duration.ofMinutes(20), (image, png) -> {
      String id = image.getRequestId().toString();
      firstAt.putIfAbsent(id, System.nanoTime());
      if (counted.merge(id, 1, Integer::sum).equals(expected.get(id))) {
        finishedAt.put(id, System.nanoTime());
      }
    });
    int missing = expected.entrySet().stream().mapToInt(e -> e.getValue() - got.getOrDefault(e.getKey(), 0)).sum();
    if (missing > 0) {
      throw new IllegalStateException(missing + " images never arrived");
    }
  }

  private static double percentile(List<Double> sorted, double q) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }
}

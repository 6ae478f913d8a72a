package io.fieldline.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import io.fieldline.core.data.IdxFixtures;
import io.fieldline.core.engine.FakeClock;
import io.fieldline.schemas.CancelRequest;
import io.fieldline.schemas.ClassRequest;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.server.ModelCatalog;
import io.fieldline.server.ModelLoader;
import io.fieldline.server.SampleImages;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.FakeRegistry;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology on Kafka Streams' TopologyTestDriver, with the engines stepped by hand and an injected clock: no
 * sleeps. The schema registry here is an in-process stand-in; it-tests run the same flows on a real broker and
 * registry.
 */
class PipelineTopologyTest {
  @TempDir
  Path dir;

  private final FakeClock clock = new FakeClock();
  private io.micrometer.core.instrument.simple.SimpleMeterRegistry meters;
  private FakeRegistry registry;
  private SchemaRegistryClient client;
  private ModelCatalog catalog;
  private FieldlinePipeline pipeline;
  private TopologyTestDriver driver;
  private TestInputTopic<byte[], byte[]> requests;
  private TestInputTopic<String, CancelRequest> control;
  private TestOutputTopic<String, GeneratedImage> images;
  private TestOutputTopic<String, GenerationStatus> status;
  private TestOutputTopic<String, byte[]> deadLetters;
  private AvroSerde<GenerationRequest> requestSerde;

  @BeforeEach
  void setUp() throws Exception {
    registry = new FakeRegistry();
    client = SchemaRegistryClient.builder().setUrl(registry.url()).build();
    Path data = IdxFixtures.write(dir.resolve("tiny.idx"), 6, 4, 4, 1, false);
    // A labelled copy (labels file beside it, by the MNIST naming habit): a class-conditional exact field.
    Path labelled = IdxFixtures.writeLabelled(dir, "tiny", 6, 4, 4, 1, 3);
    open(ModelCatalog.builder().optAlias("tiny", "exact:" + data).optAlias("tinypp", "exact:" + data)
        .optAlias("tinycond", "exact:" + labelled)
        .optLoader(ModelLoader.builder().optExactSize(6).build()).build(), BadRequests.limits());
  }

  /** (Re)starts the driver on a catalog and limits. */
  private void open(ModelCatalog newCatalog, PipelineLimits limits) {
    open(newCatalog, limits, 1);
  }

  private void open(ModelCatalog newCatalog, PipelineLimits limits, int workers) {
    open(newCatalog, limits, workers, Duration.ofSeconds(30));
  }

  private void open(ModelCatalog newCatalog, PipelineLimits limits, int workers, Duration registryBlock) {
    if (driver != null) {
      driver.close();
      pipeline.close();
      catalog.close();
    }
    catalog = newCatalog;
    catalog.loadAliases(); // as FieldlinePipeline.create does before any stream thread runs
    meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    pipeline = FieldlinePipeline.builder().setRegistry(client).setCatalog(catalog).optClock(clock)
        .optEngineThreads(false).optMetrics(new PipelineMetrics(meters)).optLimits(limits).optWorkers(workers)
        .optRegistryWait(registryBlock, Duration.ofMinutes(10)).build();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
    driver = new TopologyTestDriver(pipeline.topology(), props, clock.instant());
    Topics t = pipeline.topics();
    requestSerde = new AvroSerde<>(client, GenerationRequest.class, false);
    requests = driver.createInputTopic(t.requests(), Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer());
    control = driver.createInputTopic(t.control(), Serdes.String().serializer(),
        new AvroSerde<>(client, CancelRequest.class, false).serializer());
    images = driver.createOutputTopic(t.images(), Serdes.String().deserializer(),
        new AvroSerde<>(client, GeneratedImage.class, false).deserializer());
    status = driver.createOutputTopic(t.status(), Serdes.String().deserializer(),
        new AvroSerde<>(client, GenerationStatus.class, false).deserializer());
    deadLetters = driver.createOutputTopic(t.deadLetters(), Serdes.String().deserializer(),
        Serdes.ByteArray().deserializer());
  }

  @AfterEach
  void tearDown() {
    driver.close();
    pipeline.close();
    catalog.close();
    registry.close();
  }

  private static GenerationRequest.Builder request(String id, int count) {
    return GenerationRequest.newBuilder().setRequestId(id).setModel("tiny").setCount(count).setSeed(7)
        .setSampler(SamplerSpec.newBuilder().setSolver("heun").setSteps(6).build());
  }

  private void send(GenerationRequest r) {
    requests.pipeInput(r.getRequestId().getBytes(StandardCharsets.UTF_8),
        requestSerde.serializer().serialize(pipeline.topics().requests(), r));
  }

  /**
   * Runs the engines dry and lets the collector punctuate, twice: the first round also creates the engines of models
   * first asked for (the loader thread's work) and the punctuation starts the samples that waited for them.
   */
  private void work() {
    for (int round = 0; round < 2; round++) {
      pipeline.engines().runUntilIdle();
      driver.advanceWallClockTime(Duration.ofMillis(200));
    }
  }

  private Map<String, GenerationStatus> latestStatus() {
    return status.readKeyValuesToMap();
  }

  @Test
  void shouldEmitEveryImageOnceByteIdenticalToTheLibraryAndReportDone() {
    send(request("a", 5).build());
    send(request("b", 3).setSeed(8).build());
    work();
    List<TestRecord<String, GeneratedImage>> out = images.readRecordsToList();
    assertEquals(8, out.size());
    Set<String> seen = new HashSet<>();
    FieldModel model = catalog.load(catalog.resolve("tiny", null).orElseThrow());
    for (TestRecord<String, GeneratedImage> r : out) {
      GeneratedImage image = r.value();
      assertTrue(seen.add(image.getRequestId() + "/" + image.getIndex()), "duplicate " + image.getIndex());
      var task = io.fieldline.core.engine.SampleTask.of(image.getRequestId(), image.getIndex(), image.getSeed(),
          SamplerSettings.fixed(Solver.HEUN, 6));
      Flows.Result expected = Flows.sample(model, task.settings(), image.getSeed(), image.getIndex());
      byte[] png = new byte[image.getPng().remaining()];
      image.getPng().get(png);
      assertArrayEquals(SampleImages.png(model, task, expected.x(), expected.nfe()), png);
      assertEquals(11, image.getNfe());
    }
    Map<String, GenerationStatus> s = latestStatus();
    assertEquals(RequestState.DONE, s.get("a").getState());
    assertEquals(5, s.get("a").getDone());
    assertEquals(5, s.get("a").getTotal());
    assertEquals(RequestState.DONE, s.get("b").getState());
    assertEquals(8, meters.get("fieldline.samples").tag("status", "completed").counter().count());
    assertEquals(8, meters.get("fieldline.sample.nfe").summary().count());
    assertTrue(meters.get("fieldline.batch.rows").summary().max() <= 64);
  }

  @Test
  void shouldDrawEachImageFromItsRequestedClassAndNameItInTheRecordAndThePng() throws Exception {
    Map<String, Integer> counts = new java.util.LinkedHashMap<>();
    counts.put("2", 2);
    counts.put("0", 1);
    send(request("cond", 3).setModel("tinycond").setSampler(SamplerSpec.newBuilder().setSolver("heun").setSteps(6)
        .setGuidance(2.0).build()).setClasses(ClassRequest.newBuilder().setCounts(counts).build()).build());
    send(request("cycle", 4).setModel("tinycond").setClasses(ClassRequest.newBuilder()
        .setNames(List.of("1", "0")).build()).build());
    send(request("plain", 2).setModel("tinycond").build()); // an old-style request: no class
    work();
    FieldModel model = catalog.load(catalog.resolve("tinycond", null).orElseThrow());
    assertEquals(List.of("0", "1", "2"), model.classes());
    Map<String, int[]> expectedClasses = Map.of("cond", new int[] {0, 2, 2}, "cycle", new int[] {1, 0, 1, 0},
        "plain", new int[] {-1, -1});
    List<TestRecord<String, GeneratedImage>> out = images.readRecordsToList();
    assertEquals(9, out.size());
    for (TestRecord<String, GeneratedImage> r : out) {
      GeneratedImage image = r.value();
      int label = expectedClasses.get(image.getRequestId())[image.getIndex()];
      assertEquals(label, image.getClassIndex(), image.getRequestId() + "/" + image.getIndex());
      assertEquals(label < 0 ? null : model.classes().get(label), image.getClassName());
      SamplerSettings settings = SamplerSettings.fixed(Solver.HEUN, 6)
          .withGuidance(image.getRequestId().equals("cond") ? 2 : 1);
      var task = new io.fieldline.core.engine.SampleTask(image.getRequestId(), image.getIndex(), image.getSeed(),
          settings, 0, null, label);
      Flows.Result expected = Flows.sample(model, settings, image.getSeed(), image.getIndex(), label);
      byte[] png = new byte[image.getPng().remaining()];
      image.getPng().get(png);
      assertArrayEquals(SampleImages.png(model, task, expected.x(), expected.nfe()), png, "bitwise the library's");
      assertEquals(image.getRequestId().equals("cond") ? 22 : 11, image.getNfe(), "guidance 2 doubles the NFE");
      Map<String, String> text = io.fieldline.server.PngEncoder.readText(png);
      assertEquals(label < 0 ? null : Integer.toString(label), text.get("class"));
      assertEquals(label < 0 ? null : model.classes().get(label), text.get("class_name"));
      assertEquals(label < 0 ? null : image.getRequestId().equals("cond") ? "2" : "1", text.get("guidance"));
    }
  }

  @Test
  void shouldRejectClassRequestsNoModelCanServeWithTheirReasons() {
    Map<String, GenerationRequest> bad = new java.util.LinkedHashMap<>();
    bad.put("unknown class", request("k1", 2).setModel("tinycond").setClasses(ClassRequest.newBuilder()
        .setNames(List.of("0", "spaceship")).build()).build());
    bad.put("unconditional", request("k2", 2).setClasses(ClassRequest.newBuilder().setNames(List.of("0")).build())
        .build());
    bad.put("negative count", request("k3", 2).setModel("tinycond").setClasses(ClassRequest.newBuilder()
        .setCounts(Map.of("0", -2)).build()).build());
    bad.put("counts and count differ", request("k4", 2).setModel("tinycond").setClasses(ClassRequest.newBuilder()
        .setCounts(Map.of("0", 5)).build()).build());
    bad.put("names and counts", request("k5", 1).setModel("tinycond").setClasses(ClassRequest.newBuilder()
        .setNames(List.of("0")).setCounts(Map.of("0", 1)).build()).build());
    bad.put("NaN guidance", request("k6", 1).setModel("tinycond").setSampler(SamplerSpec.newBuilder().setSolver("")
        .setGuidance(Double.NaN).build()).build());
    bad.put("huge guidance", request("k7", 1).setModel("tinycond").setSampler(SamplerSpec.newBuilder().setSolver("")
        .setGuidance(1e12).build()).build());
    bad.put("guidance on an unconditional model", request("k8", 1).setSampler(SamplerSpec.newBuilder()
        .setSolver("heun").setSteps(6).setGuidance(2.0).build()).build());
    for (GenerationRequest r : bad.values()) {
      send(r);
    }
    send(request("fine", 2).setModel("tinycond").setClasses(ClassRequest.newBuilder().setNames(List.of("all"))
        .build()).build());
    work();
    Map<String, GenerationStatus> s = latestStatus();
    for (Map.Entry<String, GenerationRequest> e : bad.entrySet()) {
      GenerationStatus st = s.get(e.getValue().getRequestId());
      assertEquals(RequestState.REJECTED, st.getState(), e.getKey());
      assertTrue(st.getReason().contains("class") || st.getReason().contains("guidance"), e.getKey() + ": "
          + st.getReason());
    }
    assertTrue(s.get("k1").getReason().contains("spaceship"), s.get("k1").getReason());
    assertTrue(s.get("k4").getReason().contains("add up to 5"), s.get("k4").getReason());
    assertEquals(bad.size(), deadLetters.readRecordsToList().size());
    assertEquals(RequestState.DONE, s.get("fine").getState());
  }

  @Test
  void shouldWaitOutARegistryOutageInsteadOfRejectingAGoodRequest() throws Exception {
    // The request's schema id is new to the pipeline (another client registered it), and the registry is down.
    SchemaRegistryClient producerClient = SchemaRegistryClient.builder().setUrl(registry.url()).build();
    byte[] value = new AvroSerde<>(producerClient, GenerationRequest.class, false).serializer()
        .serialize(pipeline.topics().requests(), request("during-outage", 2).build());
    // Wait no time on the stream thread, so the test sees the outage end the thread (Streams then replaces it).
    open(catalog, BadRequests.limits(), 1, Duration.ZERO);
    registry.failNext(Integer.MAX_VALUE);
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
        () -> requests.pipeInput("during-outage".getBytes(StandardCharsets.UTF_8), value));
    assertTrue(io.fieldline.streams.registry.RegistryUnavailableException.isCause(e), e.toString());
    assertTrue(deadLetters.readRecordsToList().isEmpty(), "an outage is not bad input: nothing dead-lettered");
    assertFalse(latestStatus().containsKey("during-outage"), "and not rejected");
    assertNotNull(meters.find("fieldline.registry.retries").functionCounter(), "the retries meter is registered");
    assertNotNull(meters.find("fieldline.registry.waiting").gauge(), "the waiting gauge is registered");
    // The registry returns; the record is read again from the last commit, as a replaced stream thread does.
    registry.failNext(0);
    requests.pipeInput("during-outage".getBytes(StandardCharsets.UTF_8), value);
    work();
    assertEquals(RequestState.DONE, latestStatus().get("during-outage").getState());
    assertEquals(2, images.readRecordsToList().size());
  }

  @Test
  void shouldReportAcceptedAtOnceAndTheFinalStateWhenTheLastImageEnds() {
    send(request("a", 3).build());
    List<GenerationStatus> first = status.readValuesToList();
    assertEquals(RequestState.ACCEPTED, first.get(first.size() - 1).getState());
    work(); // all three images end within one collection: no RUNNING in between, DONE at once
    List<GenerationStatus> rest = status.readValuesToList();
    assertEquals(RequestState.DONE, rest.get(rest.size() - 1).getState());
    assertEquals(3, rest.get(rest.size() - 1).getDone());
  }

  @Test
  void shouldRejectBadRequestsWithAReasonAndKeepServingGoodOnes() {
    List<BadRequests.Case> cases = BadRequests.all(r -> requestSerde.serializer()
        .serialize(pipeline.topics().requests(), r), clock.instant());
    int i = 0;
    for (BadRequests.Case c : cases) {
      requests.pipeInput(c.key(), c.value());
      if (i++ % 5 == 0) {
        send(request("good-" + i, 2).build()); // interleaved good requests
      }
    }
    work();
    List<TestRecord<String, byte[]>> dlq = deadLetters.readRecordsToList();
    assertEquals(cases.size(), dlq.size());
    for (TestRecord<String, byte[]> r : dlq) {
      assertNotNull(r.headers().lastHeader("fieldline.error"), "error header");
      assertTrue(new String(r.headers().lastHeader("fieldline.source").value(), StandardCharsets.UTF_8)
          .startsWith(pipeline.topics().requests()));
    }
    Map<String, GenerationStatus> s = latestStatus();
    for (BadRequests.Case c : cases) {
      GenerationStatus st = s.get(c.statusKey());
      assertNotNull(st, c.name());
      assertEquals(RequestState.REJECTED, st.getState(), c.name());
      assertTrue(st.getReason() != null && !st.getReason().isBlank(), c.name());
    }
    assertTrue(s.get("c3").getReason().contains("limit"), s.get("c3").getReason());
    assertTrue(s.get("m1").getReason().contains("unknown model"), s.get("m1").getReason());
    assertTrue(s.get("g2").getReason().contains("unknown schema id"), s.get("g2").getReason());
    long good = s.values().stream().filter(st -> st.getRequestId().startsWith("good-")).count();
    assertEquals(good, s.values().stream().filter(st -> st.getRequestId().startsWith("good-")
        && st.getState() == RequestState.DONE).count());
    assertTrue(good >= 5);
    assertEquals(2 * good, images.readRecordsToList().size());
    assertEquals(cases.size(), meters.get("fieldline.requests.rejected").counter().count());
  }

  @Test
  void shouldCancelTheRemainingImagesOfARequest() {
    send(request("doomed", 4).build());
    send(request("fine", 2).build());
    control.pipeInput("doomed", CancelRequest.newBuilder().setRequestId("doomed").setReason("user").build());
    driver.advanceWallClockTime(Duration.ofMillis(200)); // the collector sees the cancellation and withdraws
    work();
    Map<String, GenerationStatus> s = latestStatus();
    assertEquals(RequestState.CANCELLED, s.get("doomed").getState());
    assertEquals(0, s.get("doomed").getDone());
    assertEquals(RequestState.DONE, s.get("fine").getState());
    assertTrue(images.readRecordsToList().stream().noneMatch(r -> r.value().getRequestId().equals("doomed")));
  }

  @Test
  void shouldExpireImagesWhoseDeadlinePassesWhileQueued() {
    send(request("late", 3).setDeadlineEpochMs(clock.instant().plusSeconds(5).toEpochMilli()).build());
    clock.advance(Duration.ofSeconds(6));
    work();
    GenerationStatus s = latestStatus().get("late");
    assertEquals(RequestState.EXPIRED, s.getState());
    assertEquals(3, s.getFailed());
  }

  @Test
  void shouldRejectRequestsOverTheQueueBoundsWithTheNumbersAndAcceptAgainOnceImagesFinish() {
    open(catalog, BadRequests.limits().withQueueBounds(150, 250));
    send(request("alice-1", 100).setClientId("alice").build());
    send(request("alice-2", 60).setClientId("alice").build());
    send(request("bob-1", 100).setClientId("bob").build());
    send(request("carol-1", 60).setClientId("carol").build());
    send(request("anon-1", 40).build());
    Map<String, GenerationStatus> s = latestStatus();
    assertEquals(RequestState.ACCEPTED, s.get("alice-1").getState());
    assertEquals("alice", s.get("alice-1").getClientId());
    assertEquals(RequestState.REJECTED, s.get("alice-2").getState());
    assertEquals("client 'alice' has 100 unfinished images; 60 more would exceed the per-client quota of 150 "
        + "(wait for some to finish, or ask for fewer)", s.get("alice-2").getReason());
    assertEquals(RequestState.ACCEPTED, s.get("bob-1").getState());
    assertEquals(RequestState.REJECTED, s.get("carol-1").getState());
    assertTrue(s.get("carol-1").getReason().startsWith("the pipeline has 200 unfinished images; 60 more would exceed "
        + "its limit of 250"), s.get("carol-1").getReason());
    assertEquals(RequestState.ACCEPTED, s.get("anon-1").getState(), "240 of 250");
    assertEquals(240.0, meters.get("fieldline.images.unfinished").gauge().value());
    work();
    assertEquals(0.0, meters.get("fieldline.images.unfinished").gauge().value());
    send(request("alice-3", 60).setClientId("alice").build());
    s = latestStatus();
    assertEquals(RequestState.DONE, s.get("alice-1").getState());
    assertEquals(RequestState.ACCEPTED, s.get("alice-3").getState(), "the quota frees as images finish");
  }

  @Test
  void shouldFinishInFlightSamplesOnTheirVersionAndMoveNewRequestsOnlyAfterWarmUp() throws Exception {
    Path models = dir.resolve("models");
    Path v1 = java.nio.file.Files.createDirectories(models.resolve("fm/1"));
    IdxFixtures.write(v1.resolve("data.idx"), 6, 4, 4, 1, false);
    java.nio.file.Files.writeString(v1.resolve("model.json"), "{}");
    List<Runnable> warmUps = new java.util.ArrayList<>();
    ModelLoader exact = ModelLoader.builder().optExactSize(6).build();
    open(ModelCatalog.builder().optModelsDir(models).optWarmUpExecutor(warmUps::add)
        .optLoader(spec -> exact.load("exact:" + Path.of(spec).resolve("data.idx"))).build(), BadRequests.limits());
    assertTrue(pipeline.prepare("fm")); // serve loads version 1 before it joins the group
    warmUps.remove(0).run(); // the cold start's scheduled warm-up finds it loaded
    send(request("old", 4).setModel("fm").build()); // its samples wait in the engine
    Path v2 = java.nio.file.Files.createDirectories(models.resolve("fm/2"));
    IdxFixtures.write(v2.resolve("data.idx"), 6, 4, 4, 5, false); // other images: another field
    java.nio.file.Files.writeString(v2.resolve("model.json"), "{}");
    send(request("early", 2).setModel("fm").build());
    assertEquals(1, warmUps.size(), "version 2 warms in the background");
    warmUps.remove(0).run();
    send(request("late", 2).setModel("fm").build());
    work();
    FieldModel first = catalog.load(catalog.resolve("fm", "1").orElseThrow());
    FieldModel second = catalog.load(catalog.resolve("fm", "2").orElseThrow());
    Map<String, String> versionOf = Map.of("old", "1", "early", "1", "late", "2");
    List<TestRecord<String, GeneratedImage>> out = images.readRecordsToList();
    assertEquals(8, out.size());
    for (TestRecord<String, GeneratedImage> r : out) {
      GeneratedImage image = r.value();
      String version = versionOf.get(image.getRequestId());
      assertEquals(version, image.getModelVersion(), image.getRequestId());
      FieldModel model = version.equals("1") ? first : second;
      var task = io.fieldline.core.engine.SampleTask.of(image.getRequestId(), image.getIndex(), image.getSeed(),
          SamplerSettings.fixed(Solver.HEUN, 6));
      Flows.Result expected = Flows.sample(model, task.settings(), image.getSeed(), image.getIndex());
      byte[] png = new byte[image.getPng().remaining()];
      image.getPng().get(png);
      assertArrayEquals(SampleImages.png(model, task, expected.x(), expected.nfe()), png, image.getRequestId());
    }
    assertTrue(latestStatus().values().stream().allMatch(st -> st.getState() == RequestState.DONE));
  }

  /** A bundle directory whose model.json describes {@code field} (the test loaders return the field itself). */
  private static Path bundleOf(Path dir, FieldModel field) throws Exception {
    java.nio.file.Files.createDirectories(dir);
    String kind = field.physics() instanceof io.fieldline.core.PfgmPhysics ? "pfgm" : "pfgmpp";
    new io.fieldline.server.ModelBundle(io.fieldline.server.ModelBundle.FORMAT, dir.getFileName().toString(), "1",
        kind, field.shape(), io.fieldline.server.ModelBundle.physicsToJson(field.physics()), null, null, "0", null)
        .write(dir);
    java.nio.file.Files.writeString(dir.resolve(io.fieldline.server.ModelBundle.WEIGHTS), "not read by this loader");
    return dir;
  }

  @Test
  void shouldHoldTheSamplesOfAModelAddedAfterStartWhileItLoadsOffTheStreamThread() throws Exception {
    Path models = java.nio.file.Files.createDirectories(dir.resolve("later-models"));
    Path data = IdxFixtures.write(dir.resolve("later.idx"), 6, 4, 4, 1, false);
    ModelLoader exact = ModelLoader.builder().optExactSize(6).build();
    FieldModel reference = exact.load("exact:" + data);
    java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
    List<Runnable> warmUps = new java.util.ArrayList<>();
    open(ModelCatalog.builder().optModelsDir(models).optWarmUpExecutor(warmUps::add).optLoader(spec -> {
      loads.incrementAndGet();
      return exact.load("exact:" + data);
    }).build(), BadRequests.limits());
    bundleOf(models.resolve("late"), reference); // copied in after start
    send(request("first", 5).setModel("late").build());
    assertEquals(RequestState.ACCEPTED, latestStatus().get("first").getState(), "checked against its model.json");
    driver.advanceWallClockTime(Duration.ofMillis(200)); // punctuations while it loads: the samples wait
    assertEquals(0, loads.get(), "nothing was loaded on the stream thread");
    assertTrue(images.isEmpty());
    work(); // the loader creates the engines; the next punctuation starts the samples that waited
    assertEquals(RequestState.DONE, latestStatus().get("first").getState());
    List<GeneratedImage> out = images.readValuesToList();
    assertEquals(5, out.size());
    for (GeneratedImage image : out) {
      var task = io.fieldline.core.engine.SampleTask.of("first", image.getIndex(), 7, SamplerSettings.fixed(Solver.HEUN,
          6));
      Flows.Result expected = Flows.sample(reference, task.settings(), 7, image.getIndex());
      byte[] png = new byte[image.getPng().remaining()];
      image.getPng().get(png);
      assertArrayEquals(SampleImages.png(reference, task, expected.x(), expected.nfe()), png, "the library's image");
    }
    assertEquals(1, loads.get(), "loaded once, by the loader");
    reference.close();
  }

  @Test
  void shouldFailTheWaitingSamplesWithTheReasonWhenTheirModelCannotLoadAndKeepServingOthers() throws Exception {
    Path models = java.nio.file.Files.createDirectories(dir.resolve("broken-models"));
    Path data = IdxFixtures.write(dir.resolve("good.idx"), 6, 4, 4, 1, false);
    ModelLoader exact = ModelLoader.builder().optExactSize(6).build();
    FieldModel described = exact.load("exact:" + data);
    bundleOf(models.resolve("broken"), described);
    described.close();
    open(ModelCatalog.builder().optModelsDir(models).optAlias("tiny", "exact:" + data).optWarmUpExecutor(r -> { })
        .optLoader(spec -> {
          if (spec.startsWith("exact:")) {
            return exact.load(spec);
          }
          throw new io.fieldline.server.ModelException("field.onnx is truncated");
        }).build(), BadRequests.limits());
    send(request("doomed", 3).setModel("broken").build());
    send(request("fine", 2).build());
    assertEquals(RequestState.ACCEPTED, latestStatus().get("doomed").getState());
    work();
    Map<String, GenerationStatus> s = latestStatus();
    assertEquals(RequestState.FAILED, s.get("doomed").getState());
    assertTrue(s.get("doomed").getReason().contains("truncated"), s.get("doomed").getReason());
    assertEquals(RequestState.DONE, s.get("fine").getState());
    assertEquals(2, images.readRecordsToList().size());
    send(request("refused", 1).setModel("broken").build());
    GenerationStatus refused = latestStatus().get("refused");
    assertEquals(RequestState.REJECTED, refused.getState(), "a version known to fail is refused with its reason");
    assertTrue(refused.getReason().contains("truncated"), refused.getReason());
  }

  @Test
  void shouldLoadEveryEngineCopyWhenPreparedAndNoneMoreAtTheFirstRequest() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("prepared.idx"), 6, 4, 4, 1, false);
    ModelLoader exact = ModelLoader.builder().optExactSize(6).optThreadsPerModel(1).build();
    java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
    open(ModelCatalog.builder().optAlias("tiny", "exact:" + data).optLoader(spec -> {
      loads.incrementAndGet();
      return exact.load(spec);
    }).build(), BadRequests.limits(), 3);
    assertEquals(1, loads.get(), "the alias is loaded once before requests arrive, its engines not yet");
    assertTrue(pipeline.prepare("tiny"));
    assertEquals(3, loads.get(), "one copy per engine");
    assertFalse(pipeline.prepare("no-such-model"));
    send(request("after-prepare", 6).build());
    work();
    assertEquals(RequestState.DONE, latestStatus().get("after-prepare").getState());
    assertEquals(3, loads.get(), "the request found its engines ready");
  }

  @Test
  void shouldSpreadSamplesOverAPoolOfEnginesAndEmitTheSameImages() throws Exception {
    Path data = IdxFixtures.write(dir.resolve("pool.idx"), 6, 4, 4, 1, false);
    ModelLoader exact = ModelLoader.builder().optExactSize(6).optThreadsPerModel(1).build();
    List<int[]> rowsPerCopy = new java.util.ArrayList<>();
    open(ModelCatalog.builder().optAlias("tiny", "exact:" + data).optLoader(spec -> {
      FieldModel field = exact.load(spec);
      int[] rows = new int[1];
      rowsPerCopy.add(rows);
      return new FieldModel() { // counts the rows each copy evaluates
        @Override
        public String name() {
          return field.name();
        }

        @Override
        public io.fieldline.core.Physics physics() {
          return field.physics();
        }

        @Override
        public io.fieldline.core.ImageShape shape() {
          return field.shape();
        }

        @Override
        public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
          rows[0] += count;
          field.evaluate(x, cond, out, count);
        }
      };
    }).build(), BadRequests.limits(), 3);
    send(request("spread", 12).build());
    work();
    assertEquals(3, rowsPerCopy.size(), "one model copy per engine");
    assertTrue(rowsPerCopy.stream().allMatch(r -> r[0] > 0), "every engine worked");
    FieldModel reference = ModelLoader.builder().optExactSize(6).build().load("exact:" + data);
    List<TestRecord<String, GeneratedImage>> out = images.readRecordsToList();
    assertEquals(12, out.size());
    for (TestRecord<String, GeneratedImage> r : out) {
      GeneratedImage image = r.value();
      var task = io.fieldline.core.engine.SampleTask.of(image.getRequestId(), image.getIndex(), image.getSeed(),
          SamplerSettings.fixed(Solver.HEUN, 6));
      Flows.Result expected = Flows.sample(reference, task.settings(), image.getSeed(), image.getIndex());
      byte[] png = new byte[image.getPng().remaining()];
      image.getPng().get(png);
      assertArrayEquals(SampleImages.png(reference, task, expected.x(), expected.nfe()), png, "index "
          + image.getIndex());
    }
  }
}

package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.ModelCatalog;
import io.fieldline.server.ModelLoader;
import io.fieldline.server.SampleImages;
import io.fieldline.streams.FieldlinePipeline;
import io.fieldline.streams.Topics;
import io.fieldline.streams.client.FieldlineClient;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The pipeline on a real KRaft broker and a real Apicurio registry, exactly once. */
class PipelineIT {
  private static LocalKafka kafka;
  private static LocalRegistry registry;
  private static Path dir;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("fieldline-it");
    kafka = LocalKafka.start();
    registry = LocalRegistry.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (registry != null) {
      registry.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void shouldEmitEachImageOnceForTwentyRequestsAndReportDone() throws Exception {
    Topics topics = Topics.withPrefix("it1.");
    kafka.createTopics(topics);
    Path data = IdxFixtures.write(dir.resolve("tiny.idx"), 6, 4, 4, 1, false);
    SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
    try (ModelCatalog catalog = ModelCatalog.builder().optAlias("tiny", "exact:" + data)
        .optLoader(ModelLoader.builder().optExactSize(6).build()).build();
         FieldlinePipeline pipeline = FieldlinePipeline.builder().setRegistry(client).setCatalog(catalog)
             .optTopics(topics).optCollectInterval(Duration.ofMillis(50)).build()) {
      Properties props = new Properties();
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, "fieldline-it1");
      props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
      props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
      assertEquals(null, pipeline.guardSchemaEvolution(), "the registry accepts the compatibility rule");
      KafkaStreams streams = pipeline.start(props);
      try {
        Map<String, Integer> counts = new HashMap<>();
        List<GenerationRequest> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
          int count = 1 + (i * 7) % 9;
          String id = "req-" + i;
          counts.put(id, count);
          batch.add(GenerationRequest.newBuilder().setRequestId(id).setModel("tiny").setCount(count)
              .setSeed(100 + i).setPriority(i % 3).setSampler(SamplerSpec.newBuilder().setSolver("heun").setSteps(6)
                  .build()).build());
        }
        try (FieldlineClient fieldline = FieldlineClient.builder().setBootstrapServers(kafka.bootstrapServers())
            .setRegistry(client).optTopics(topics).build()) {
          fieldline.submitAll(batch);
        }
        // A client on a newer request schema (an added optional field): the running pipeline must read it.
        counts.put("req-newer", 2);
        sendWithNewerSchema(client, topics, "req-newer", 2);
        int expected = counts.values().stream().mapToInt(Integer::intValue).sum();
        Map<String, byte[]> images = new HashMap<>();
        int received = 0;
        Map<String, GenerationStatus> statuses = new HashMap<>();
        try (KafkaConsumer<String, GeneratedImage> imageConsumer = consumer(client, GeneratedImage.class, "i");
             KafkaConsumer<String, GenerationStatus> statusConsumer = consumer(client, GenerationStatus.class, "s")) {
          imageConsumer.subscribe(List.of(topics.images()));
          statusConsumer.subscribe(List.of(topics.status()));
          long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
          while ((received < expected || !allDone(statuses, counts)) && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, GeneratedImage> r : imageConsumer.poll(Duration.ofMillis(200))) {
              GeneratedImage image = r.value();
              byte[] png = new byte[image.getPng().remaining()];
              image.getPng().get(png);
              byte[] previous = images.put(image.getRequestId() + "/" + image.getIndex(), png);
              assertTrue(previous == null, "duplicate image " + image.getRequestId() + "/" + image.getIndex());
              received++;
            }
            for (ConsumerRecord<String, GenerationStatus> r : statusConsumer.poll(Duration.ofMillis(50))) {
              statuses.put(r.key(), r.value());
            }
          }
          // A little longer: nothing more may arrive.
          for (int i = 0; i < 5; i++) {
            received += imageConsumer.poll(Duration.ofMillis(200)).count();
          }
        }
        assertEquals(expected, received, "every image exactly once");
        assertEquals(expected, images.size());
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
          GenerationStatus s = statuses.get(e.getKey());
          assertEquals(RequestState.DONE, s.getState(), e.getKey());
          assertEquals(e.getValue(), s.getTotal());
          assertEquals(e.getValue(), s.getDone());
        }
        FieldModel model = catalog.load(catalog.resolve("tiny", null).orElseThrow());
        SamplerSettings heun = SamplerSettings.fixed(Solver.HEUN, 6);
        Set<String> checked = new HashSet<>();
        for (int i = 0; i < 20; i += 3) {
          String key = "req-" + i + "/0";
          var task = io.fieldline.core.engine.SampleTask.of("req-" + i, 0, 100 + i, heun);
          Flows.Result r = Flows.sample(model, heun, 100 + i, 0);
          assertArrayEquals(SampleImages.png(model, task, r.x(), r.nfe()), images.get(key), key);
          checked.add(key);
        }
        assertEquals(7, checked.size());
      } finally {
        streams.close(Duration.ofSeconds(30));
      }
    }
  }

  @Test
  void shouldServeTheBundledNetworkWithItsPresetByteIdenticalToOneSampleAtATime() throws Exception {
    // The default model of demo and generate: the ONNX network under models/, whose model.json carries a measured
    // sampler preset. Requests name no sampler, share batches across two engines, and must still give exactly the
    // images of each sample integrated alone.
    Topics topics = Topics.withPrefix("it-net.");
    kafka.createTopics(topics);
    SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
    Map<String, Integer> counts = Map.of("net-a", 5, "net-b", 3, "net-c", 1);
    try (ModelCatalog catalog = ModelCatalog.builder().optModelsDir(Path.of("..", "models")).build();
         FieldlinePipeline pipeline = FieldlinePipeline.builder().setRegistry(client).setCatalog(catalog)
             .optTopics(topics).optWorkers(2).optCollectInterval(Duration.ofMillis(50)).build()) {
      Properties props = new Properties();
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, "fieldline-it-net");
      props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state-net").toString());
      // No commit.interval.ms: this test runs at the pipeline default (500 ms), the others at 100 ms for speed.
      KafkaStreams streams = pipeline.start(props);
      Map<String, GeneratedImage> images = new HashMap<>();
      try {
        try (FieldlineClient fieldline = FieldlineClient.builder().setBootstrapServers(kafka.bootstrapServers())
            .setRegistry(client).optTopics(topics).build()) {
          long seed = 40;
          List<GenerationRequest> batch = new java.util.ArrayList<>();
          for (Map.Entry<String, Integer> e : counts.entrySet()) {
            batch.add(GenerationRequest.newBuilder().setRequestId(e.getKey()).setModel("fmnist-pfgmpp")
                .setCount(e.getValue()).setSeed(seed++).build());
          }
          fieldline.submitAll(batch);
        }
        try (KafkaConsumer<String, GeneratedImage> consumer = consumer(client, GeneratedImage.class, "net")) {
          consumer.subscribe(List.of(topics.images()));
          long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
          while (images.size() < 9 && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, GeneratedImage> r : consumer.poll(Duration.ofMillis(200))) {
              assertEquals(null, images.put(r.value().getRequestId() + "/" + r.value().getIndex(), r.value()),
                  "duplicate image");
            }
          }
        }
      } finally {
        streams.close(Duration.ofSeconds(30));
      }
      assertEquals(9, images.size(), "every image exactly once");
      ModelCatalog.Entry entry = catalog.resolve("fmnist-pfgmpp", null).orElseThrow();
      FieldModel model = catalog.load(entry);
      SamplerSettings preset = model.defaultSampler();
      assertTrue(preset.solver() == Solver.HEUN && preset.steps() < 18, "the bundle's measured preset, not EDM's 18 "
          + "steps: " + preset.describe());
      String sha = ModelBundle.read(Path.of("..", "models", "fmnist-pfgmpp")).weightsSha256();
      long seed = 40;
      for (Map.Entry<String, Integer> e : counts.entrySet()) {
        for (int index = 0; index < e.getValue(); index++) {
          GeneratedImage image = images.get(e.getKey() + "/" + index);
          assertEquals(preset.describe(), image.getSampler());
          assertEquals(sha, image.getModelSha256());
          var task = io.fieldline.core.engine.SampleTask.of(e.getKey(), index, seed, preset);
          Flows.Result alone = Flows.sample(model, preset, seed, index);
          byte[] png = new byte[image.getPng().remaining()];
          image.getPng().get(png);
          assertArrayEquals(SampleImages.png(model, task, alone.x(), alone.nfe()), png, e.getKey() + "/" + index);
        }
        seed++;
      }
    }
  }

  private static void sendWithNewerSchema(SchemaRegistryClient client, Topics topics, String id, int count)
      throws Exception {
    String newer = GenerationRequest.getClassSchema().toString().replace("{\"name\":\"labels\"",
        "{\"name\":\"tenant\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"labels\"");
    org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser().parse(newer);
    int schemaId = client.register(topics.requests() + "-value", schema); // passes BACKWARD_TRANSITIVE
    org.apache.avro.generic.GenericRecord record = new org.apache.avro.generic.GenericData.Record(schema);
    GenerationRequest base = GenerationRequest.newBuilder().setRequestId(id).setModel("tiny").setCount(count)
        .setSeed(777).setSampler(SamplerSpec.newBuilder().setSolver("heun").setSteps(6).build()).build();
    for (org.apache.avro.Schema.Field f : GenerationRequest.getClassSchema().getFields()) {
      record.put(f.name(), org.apache.avro.generic.GenericData.get().deepCopy(f.schema(), base.get(f.name())));
    }
    record.put("tenant", "acme");
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0);
    out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(schemaId).array());
    org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().directBinaryEncoder(out, null);
    new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(schema).write(record, encoder);
    encoder.flush();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers()), new org.apache.kafka.common.serialization.ByteArraySerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topics.requests(), id.getBytes(java.nio.charset.StandardCharsets.UTF_8),
          out.toByteArray())).get();
    }
  }

  private static boolean allDone(Map<String, GenerationStatus> statuses, Map<String, Integer> counts) {
    return counts.keySet().stream().allMatch(id -> statuses.containsKey(id)
        && statuses.get(id).getState() == RequestState.DONE);
  }

  private static <T extends org.apache.avro.specific.SpecificRecord> KafkaConsumer<String, T> consumer(
      SchemaRegistryClient client, Class<T> type, String group) {
    return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + group + "-" + System.nanoTime(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(),
        new AvroSerde<>(client, type, false).deserializer());
  }
}

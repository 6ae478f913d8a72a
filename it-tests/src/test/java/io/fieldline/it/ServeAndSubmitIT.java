package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import io.fieldline.streams.Topics;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The two commands users run against their own cluster: `fieldline serve` and `fieldline submit`, as processes. */
class ServeAndSubmitIT {
  @Test
  void shouldServeASubmittedRequestAndSaveItsImages() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-submit");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 16, 8, 8, 7, false);
    Topics topics = Topics.withPrefix("sub.");
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      kafka.createTopics(topics);
      ServeProcess serve = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 16, "sub.",
          "sub-it", dir.resolve("state"), dir.resolve("serve.log")).start();
      try {
        Path out = dir.resolve("images");
        Process submit = new ProcessBuilder(ServeProcess.cli(List.of(), "submit",
            "--bootstrap-servers", kafka.bootstrapServers(), "--registry", registry.confluentUrl(), "--model", "data",
            "--count", "8", "--seed", "3", "--solver", "heun", "--steps", "8", "--label", "team=it",
            "--topic-prefix", "sub.", "--out", out.toString(), "--request-id", "submitted", "--no-progress"))
            .redirectErrorStream(true).redirectOutput(dir.resolve("submit.log").toFile()).start();
        assertTrue(submit.waitFor(3, TimeUnit.MINUTES), "submit finished");
        String log = Files.readString(dir.resolve("submit.log"));
        assertEquals(0, submit.exitValue(), log + serve.log());
        assertTrue(log.contains("DONE: 8 images saved"), log);
        try (Stream<Path> files = Files.list(out)) {
          assertEquals(8, files.filter(p -> p.toString().endsWith(".png")).count());
        }
        String metrics = new String(java.net.URI.create(serve.metricsUrl()).toURL().openStream().readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(metrics.contains("fieldline_samples_total{device=\"cpu\",model=\"data\",status=\"completed\","
            + "version=\"1\"} 8.0"), metrics.lines().filter(l -> l.startsWith("fieldline")).toList().toString());
        assertTrue(metrics.contains("fieldline_batch_rows_count"), "batch-size distribution");
        assertTrue(metrics.contains("kafka_stream"), "Kafka Streams' own metrics");
      } finally {
        serve.stop();
      }
    }
  }

  @Test
  void shouldSaveClassRequestsAsATrainingReadyLayoutAndStillServeOldClients() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-classes");
    // Labelled data (a labels-idx1 file beside the images): the exact field is class-conditional, classes "0".."2".
    Path data = IdxFixtures.writeLabelled(dir, "toy", 12, 8, 8, 7, 3);
    Topics topics = Topics.withPrefix("cls.");
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      kafka.createTopics(topics);
      ServeProcess serve = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 12, "cls.",
          "cls-it", dir.resolve("state"), dir.resolve("serve.log")).start();
      try {
        Path out = dir.resolve("feed");
        Process submit = new ProcessBuilder(ServeProcess.cli(List.of(), "submit",
            "--bootstrap-servers", kafka.bootstrapServers(), "--registry", registry.confluentUrl(), "--model", "data",
            "--class-count", "2=2", "--class-count", "0=3", "--guidance", "2", "--seed", "5", "--solver", "heun",
            "--steps", "6", "--topic-prefix", "cls.", "--out", out.toString(), "--request-id", "feed",
            "--no-progress")).redirectErrorStream(true).redirectOutput(dir.resolve("submit.log").toFile()).start();
        assertTrue(submit.waitFor(3, TimeUnit.MINUTES), "submit finished");
        String log = Files.readString(dir.resolve("submit.log"));
        assertEquals(0, submit.exitValue(), log + serve.log());
        assertTrue(log.contains("DONE: 5 images saved"), log);
        // Counts are laid out in class-index order: images 0-2 of class 0, 3-4 of class 2.
        List<String> rows = Files.readAllLines(out.resolve("labels.csv"));
        assertEquals("file,class,class_name,seed,index,model,version,sampler", rows.get(0));
        assertEquals(6, rows.size(), rows.toString());
        for (int index = 0; index < 5; index++) {
          String cls = index < 3 ? "0" : "2";
          String file = cls + "/feed-000" + index + ".png";
          assertEquals(file + "," + cls + "," + cls + ",5," + index + ",data,1,\"heun(steps=6, guidance=2)\"",
              rows.get(index + 1));
          java.util.Map<String, String> text = io.fieldline.server.PngEncoder.readText(Files.readAllBytes(
              out.resolve(file)));
          assertEquals(cls, text.get("class"), file);
          assertEquals("2", text.get("guidance"), file);
        }
        // The folder reads back as a labelled training set.
        io.fieldline.core.data.Dataset feed = io.fieldline.core.data.Datasets.load(out, 100, 1);
        assertEquals(List.of("0", "2"), feed.classes());
        assertEquals(5, feed.size());

        SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
        // An old producer, whose GenerationRequest has no classes field, is still served.
        Schema oldRequest = without(GenerationRequest.getClassSchema(), "classes");
        int oldId = client.register(topics.requests() + "-value", oldRequest);
        GenericRecord request = new GenericData.Record(oldRequest);
        request.put("requestId", "old");
        request.put("model", "data");
        request.put("count", 2);
        request.put("seed", 9L);
        request.put("priority", 0);
        request.put("labels", java.util.Map.of());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(java.util.Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new ByteArraySerializer(),
            new ByteArraySerializer())) {
          producer.send(new ProducerRecord<>(topics.requests(), "old".getBytes(StandardCharsets.UTF_8),
              wire(oldId, oldRequest, request))).get();
        }
        // An old consumer, whose GeneratedImage has no class fields, reads the new images.
        Schema oldImage = without(without(GeneratedImage.getClassSchema(), "classIndex"), "className");
        java.util.Map<String, GenericRecord> read = new java.util.HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(java.util.Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG,
            "old-reader", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(),
            new ByteArrayDeserializer())) {
          consumer.subscribe(List.of(topics.images()));
          long deadline = System.nanoTime() + java.time.Duration.ofMinutes(2).toNanos();
          while (read.size() < 7 && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(java.time.Duration.ofMillis(200))) {
              ByteBuffer bytes = ByteBuffer.wrap(r.value());
              bytes.get(); // magic byte
              Schema writer = client.byId(bytes.getInt());
              GenericRecord image = new GenericDatumReader<GenericRecord>(writer, oldImage).read(null,
                  DecoderFactory.get().binaryDecoder(r.value(), 5, r.value().length - 5, null));
              read.put(image.get("requestId") + "/" + image.get("index"), image);
            }
          }
        }
        assertEquals(7, read.size(), "the old reader decoded every image: " + read.keySet());
        assertTrue(read.containsKey("old/0") && read.containsKey("old/1"), "the old request was served");
        assertEquals("heun(steps=6, guidance=2)", read.get("feed/4").get("sampler").toString());

        // The Java client API and `fieldline cancel`: a long request is stopped, and its status says so.
        try (io.fieldline.streams.client.FieldlineClient fieldline = io.fieldline.streams.client.FieldlineClient
            .builder().setBootstrapServers(kafka.bootstrapServers()).setRegistry(client).optTopics(topics).build()) {
          fieldline.submit(GenerationRequest.newBuilder().setRequestId("long").setModel("data").setCount(5000)
              .setSeed(1).setSampler(io.fieldline.schemas.SamplerSpec.newBuilder().setSolver("euler").setSteps(2000)
                  .build()).build());
          Process cancel = new ProcessBuilder(ServeProcess.cli(List.of(), "cancel", "long",
              "--bootstrap-servers", kafka.bootstrapServers(), "--registry", registry.confluentUrl(),
              "--topic-prefix", "cls.", "--reason", "changed my mind")).redirectErrorStream(true)
              .redirectOutput(dir.resolve("cancel.log").toFile()).start();
          assertTrue(cancel.waitFor(2, TimeUnit.MINUTES));
          assertEquals(0, cancel.exitValue(), Files.readString(dir.resolve("cancel.log")));
          io.fieldline.streams.client.FieldlineClient.Outcome outcome = fieldline.follow("long",
              java.time.Duration.ofMinutes(2), (image, png) -> { });
          assertEquals(io.fieldline.schemas.RequestState.CANCELLED, outcome.last().getState(), serve.log());
          assertTrue(outcome.images() < 5000, outcome.images() + " images before the cancel took effect");

          // Many requests in flight, read by one image reader opened before they were sent; images of requests it was
          // not asked for (the 'other' one) are skipped.
          try (io.fieldline.streams.client.FieldlineClient.ImageReader reader = fieldline.openImageReader(
              java.time.Duration.ofMinutes(1))) {
            Map<String, Integer> expected = new HashMap<>();
            for (int i = 0; i < 6; i++) {
              fieldline.submit(GenerationRequest.newBuilder().setRequestId("many-" + i).setModel("data")
                  .setCount(1 + i % 3).setSeed(40 + i).setSampler(io.fieldline.schemas.SamplerSpec.newBuilder()
                      .setSolver("heun").setSteps(6).build()).build());
              expected.put("many-" + i, 1 + i % 3);
            }
            fieldline.submit(GenerationRequest.newBuilder().setRequestId("other").setModel("data").setCount(2)
                .setSeed(3).build());
            java.util.Set<String> seen = new java.util.HashSet<>();
            Map<String, Integer> got = reader.await(expected, java.time.Duration.ofMinutes(2), (image, png) -> {
              assertTrue(seen.add(image.getRequestId() + "/" + image.getIndex()), "each image once");
              assertTrue(png.length > 8 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a PNG");
            });
            assertEquals(expected, got, serve.log());
          }
        }
      } finally {
        serve.stop();
      }
    }
  }

  /** A record schema without one of its fields: what a client built before that field existed has. */
  private static Schema without(Schema schema, String field) {
    List<Schema.Field> fields = schema.getFields().stream().filter(f -> !f.name().equals(field))
        .map(f -> new Schema.Field(f, f.schema())).toList();
    return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
  }

  /** The Confluent wire format: magic byte 0, the schema id, the Avro binary body. */
  private static byte[] wire(int schemaId, Schema schema, GenericRecord record) throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0);
    out.writeBytes(ByteBuffer.allocate(4).putInt(schemaId).array());
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }
}

package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.streams.Topics;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * A schema-registry outage is an infrastructure fault, not bad input: `fieldline serve` waits it out (at start and
 * while serving) and loses no request. The outage is a real Apicurio registry cut off behind a TCP proxy, so it keeps
 * its schemas and comes back on the same address.
 */
class RegistryOutageIT {
  @Test
  void shouldStartDuringAnOutageAndServeARequestWhoseSchemaArrivedDuringOne() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-outage");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 8, 6, 6, 3, false);
    Topics topics = Topics.withPrefix("out.");
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start();
         TcpProxy proxy = new TcpProxy(URI.create(registry.confluentUrl()).getPort())) {
      kafka.createTopics(topics);
      String viaProxy = registry.confluentUrl().replace(":" + URI.create(registry.confluentUrl()).getPort() + "/",
          ":" + proxy.port() + "/");
      // 1. serve starts while the registry is unreachable: it waits and says so, then serves once it is back.
      long outageStart = System.nanoTime();
      ServeProcess serve = new ServeProcess(kafka.bootstrapServers(), viaProxy, data, 8, "out.", "outage-it",
          dir.resolve("state"), dir.resolve("serve.log")).start();
      try {
        waitFor(() -> serve.log().contains("waiting for the schema registry"), Duration.ofSeconds(60), serve);
        // The case: the registry comes up 20 s after serve started.
        Thread.sleep(Math.max(0, 20_000 - (System.nanoTime() - outageStart) / 1_000_000));
        assertTrue(serve.isAlive(), "serve waits for the registry instead of exiting: " + serve.log());
        java.net.HttpURLConnection ready = (java.net.HttpURLConnection) URI.create(serve.metricsUrl()
            .replace("/metrics", "/ready")).toURL().openConnection();
        assertEquals(503, ready.getResponseCode());
        String reason = new String(ready.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(reason.contains("waiting for the schema registry"), reason);
        proxy.up();
        waitFor(() -> serve.log().contains("serving "), Duration.ofSeconds(60), serve);

        // 2. A producer on a newer request schema (an added optional field) registers it with the registry directly;
        // its id is new to serve. The registry then goes away while the request is in the topic.
        SchemaRegistryClient direct = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
        org.apache.avro.Schema newer = new org.apache.avro.Schema.Parser().parse(GenerationRequest.getClassSchema()
            .toString().replace("{\"name\":\"labels\"",
                "{\"name\":\"tenant\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"labels\""));
        int newId = direct.register(topics.requests() + "-value", newer);
        org.apache.avro.generic.GenericRecord request = new org.apache.avro.generic.GenericData.Record(newer);
        GenerationRequest base = GenerationRequest.newBuilder().setRequestId("in-outage").setModel("data").setCount(3)
            .setSeed(5).setSampler(SamplerSpec.newBuilder().setSolver("heun").setSteps(6).build()).build();
        for (org.apache.avro.Schema.Field f : GenerationRequest.getClassSchema().getFields()) {
          request.put(f.name(), org.apache.avro.generic.GenericData.get().deepCopy(f.schema(), base.get(f.name())));
        }
        request.put("tenant", "acme");
        proxy.down();
        sendRaw(kafka, topics.requests(), "in-outage", wire(newId, request));
        Thread.sleep(10_000); // serve retries meanwhile
        assertTrue(serve.isAlive(), serve.log());
        proxy.up();

        Map<String, GenerationStatus> status = new HashMap<>();
        Set<String> images = new HashSet<>();
        try (KafkaConsumer<String, GenerationStatus> statuses = consumer(kafka, direct, GenerationStatus.class);
             KafkaConsumer<String, GeneratedImage> imageConsumer = consumer(kafka, direct, GeneratedImage.class);
             KafkaConsumer<String, byte[]> dlq = new KafkaConsumer<>(Map.of(
                 ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG,
                 "outage-dlq", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(),
                 new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
          statuses.subscribe(List.of(topics.status()));
          imageConsumer.subscribe(List.of(topics.images()));
          dlq.subscribe(List.of(topics.deadLetters()));
          long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
          while (System.nanoTime() < deadline && !(status.containsKey("in-outage")
              && status.get("in-outage").getState() == RequestState.DONE && images.size() == 3)) {
            for (ConsumerRecord<String, GenerationStatus> r : statuses.poll(Duration.ofMillis(200))) {
              status.put(r.key(), r.value());
            }
            for (ConsumerRecord<String, GeneratedImage> r : imageConsumer.poll(Duration.ofMillis(200))) {
              assertTrue(images.add(r.value().getRequestId() + "/" + r.value().getIndex()), "duplicate image");
            }
          }
          assertEquals(RequestState.DONE, status.get("in-outage").getState(), serve.log());
          assertEquals(3, images.size(), "every image exactly once");
          assertEquals(0, dlq.poll(Duration.ofSeconds(2)).count(), "nothing dead-lettered");
        }
        String metrics = new String(URI.create(serve.metricsUrl()).toURL().openStream().readAllBytes(),
            StandardCharsets.UTF_8);
        assertTrue(metrics.contains("fieldline_registry_retries_total"), "the retries are counted");

        // 3. A cancel on a newer CancelRequest schema, new to serve, sent while the registry is down: the global
        // store's thread (which Kafka Streams cannot replace) waits for the registry instead of stopping serve, and
        // applies the cancel once the registry answers.
        try (io.fieldline.streams.client.FieldlineClient fieldline = io.fieldline.streams.client.FieldlineClient
            .builder().setBootstrapServers(kafka.bootstrapServers()).setRegistry(direct).optTopics(topics).build()) {
          fieldline.submit(GenerationRequest.newBuilder().setRequestId("long").setModel("data").setCount(10_000)
              .setSeed(2).setSampler(SamplerSpec.newBuilder().setSolver("euler").setSteps(10_000).build()).build());
          org.apache.avro.Schema newerCancel = new org.apache.avro.Schema.Parser().parse(
              io.fieldline.schemas.CancelRequest.getClassSchema().toString().replace("{\"name\":\"reason\"",
                  "{\"name\":\"operator\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"reason\""));
          int cancelId = direct.register(topics.control() + "-value", newerCancel);
          org.apache.avro.generic.GenericRecord cancel = new org.apache.avro.generic.GenericData.Record(newerCancel);
          cancel.put("requestId", "long");
          cancel.put("operator", "ops");
          cancel.put("reason", "outage test");
          proxy.down();
          sendRaw(kafka, topics.control(), "long", wire(cancelId, cancel));
          Thread.sleep(12_000); // over twice the per-record block of a stream thread
          assertTrue(serve.isAlive(), "the global thread waits for the registry: " + serve.log());
          proxy.up();
          io.fieldline.streams.client.FieldlineClient.Outcome outcome = fieldline.follow("long", Duration.ofMinutes(3),
              (image, png) -> { });
          assertEquals(RequestState.CANCELLED, outcome.last().getState(), "the cancel was applied: " + serve.log());
          assertTrue(outcome.images() < 10_000, outcome.images() + " images before the cancel took effect");
        }

        // 4. submit during an outage: it says what it waits for, and goes on when the registry is back.
        proxy.down();
        Path submitLog = dir.resolve("submit.log");
        Process submit = new ProcessBuilder(ServeProcess.cli(List.of(), "submit", "--bootstrap-servers",
            kafka.bootstrapServers(), "--registry", viaProxy, "--model", "data", "--count", "2", "--solver", "heun",
            "--steps", "6", "--topic-prefix", "out.", "--request-id", "submitted-in-outage", "--timeout", "PT3M",
            "--out", dir.resolve("submitted").toString(), "--no-progress")).redirectErrorStream(true)
            .redirectOutput(submitLog.toFile()).start();
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.readString(submitLog).contains("waiting for the schema registry") && System.nanoTime() < until) {
          Thread.sleep(200);
        }
        assertTrue(Files.readString(submitLog).contains("waiting for the schema registry"), Files.readString(submitLog));
        proxy.up();
        assertTrue(submit.waitFor(3, java.util.concurrent.TimeUnit.MINUTES), "submit finished");
        assertEquals(0, submit.exitValue(), Files.readString(submitLog) + serve.log());
        assertTrue(Files.readString(submitLog).contains("DONE: 2 images saved"), Files.readString(submitLog));
        assertEquals(0, serve.stop(), "a clean SIGTERM close after the outages: " + serve.log());
      } finally {
        if (serve.isAlive()) {
          serve.kill();
        }
      }
    }
  }

  /** A record in the registry's wire format: magic byte 0, the schema id, the Avro binary body. */
  private static byte[] wire(int schemaId, org.apache.avro.generic.GenericRecord record) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    bytes.write(0);
    bytes.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(schemaId).array());
    org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().directBinaryEncoder(bytes, null);
    new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(record.getSchema())
        .write(record, encoder);
    encoder.flush();
    return bytes.toByteArray();
  }

  private static void sendRaw(LocalKafka kafka, String topic, String key, byte[] value) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new ByteArraySerializer(),
        new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value)).get();
    }
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  private static void waitFor(Check check, Duration timeout, ServeProcess serve) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out; serve log:\n" + serve.log());
      }
      Thread.sleep(200);
    }
  }

  private static <T extends org.apache.avro.specific.SpecificRecord> KafkaConsumer<String, T> consumer(
      LocalKafka kafka, SchemaRegistryClient client, Class<T> type) {
    return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "outage-" + type.getSimpleName(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(),
        new AvroSerde<>(client, type, false).deserializer());
  }
}

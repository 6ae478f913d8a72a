package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.server.ModelCatalog;
import io.fieldline.server.ModelLoader;
import io.fieldline.streams.BadRequests;
import io.fieldline.streams.FieldlinePipeline;
import io.fieldline.streams.Topics;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** Every kind of bad input is rejected with a reason on a real broker and registry while good requests complete. */
class BadInputIT {
  @Test
  void shouldRejectEachKindOfBadInputWhileGoodRequestsComplete() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-bad");
    Path data = IdxFixtures.write(dir.resolve("tiny.idx"), 6, 4, 4, 1, false);
    Topics topics = Topics.withPrefix("bad.");
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      kafka.createTopics(topics);
      SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
      try (ModelCatalog catalog = ModelCatalog.builder().optAlias("tiny", "exact:" + data)
          .optLoader(ModelLoader.builder().optExactSize(6).build()).build();
           FieldlinePipeline pipeline = FieldlinePipeline.builder().setRegistry(client).setCatalog(catalog)
               .optTopics(topics).optLimits(BadRequests.limits()).optCollectInterval(Duration.ofMillis(50)).build()) {
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bad-it");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        KafkaStreams streams = pipeline.start(props);
        try {
          AvroSerde<GenerationRequest> serde = new AvroSerde<>(client, GenerationRequest.class, false);
          List<BadRequests.Case> cases = BadRequests.all(r -> serde.serializer().serialize(topics.requests(), r),
              Instant.now()); // its expired-deadline case lies one second before this
          int good = 0;
          try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
              ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new ByteArraySerializer(),
              new ByteArraySerializer())) {
            int i = 0;
            for (BadRequests.Case c : cases) {
              producer.send(new ProducerRecord<>(topics.requests(), c.key(), c.value()));
              if (i++ % 4 == 0) {
                String id = "good-" + i;
                producer.send(new ProducerRecord<>(topics.requests(), id.getBytes(StandardCharsets.UTF_8),
                    serde.serializer().serialize(topics.requests(), BadRequests.good(id, 2).build())));
                good++;
              }
            }
          }
          Map<String, GenerationStatus> statuses = new HashMap<>();
          int deadLetters = 0;
          try (KafkaConsumer<String, GenerationStatus> status = new KafkaConsumer<>(Map.of(
              ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "bad-s",
              ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.ISOLATION_LEVEL_CONFIG,
              "read_committed"), new StringDeserializer(), new AvroSerde<>(client, GenerationStatus.class, false)
              .deserializer());
               KafkaConsumer<byte[], byte[]> dlq = new KafkaConsumer<>(Map.of(
                   ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG,
                   "bad-d", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                   ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(),
                   new ByteArrayDeserializer())) {
            status.subscribe(List.of(topics.status()));
            dlq.subscribe(List.of(topics.deadLetters()));
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (System.nanoTime() < deadline && (deadLetters < cases.size() || !settled(statuses, cases, good))) {
              for (ConsumerRecord<String, GenerationStatus> r : status.poll(Duration.ofMillis(100))) {
                statuses.put(r.key(), r.value());
              }
              for (ConsumerRecord<byte[], byte[]> r : dlq.poll(Duration.ofMillis(10))) {
                assertNotNull(r.headers().lastHeader("fieldline.error"));
                deadLetters++;
              }
            }
          }
          assertEquals(cases.size(), deadLetters, "one dead letter per bad record");
          for (BadRequests.Case c : cases) {
            GenerationStatus s = statuses.get(c.statusKey());
            assertNotNull(s, c.name());
            assertEquals(RequestState.REJECTED, s.getState(), c.name());
            assertTrue(s.getReason() != null && !s.getReason().isBlank(), c.name());
          }
          assertTrue(cases.size() >= 20, "at least 20 kinds");
          assertEquals(good, statuses.values().stream().filter(s -> s.getRequestId().startsWith("good-")
              && s.getState() == RequestState.DONE).count(), "interleaved good requests complete");
        } finally {
          streams.close(Duration.ofSeconds(30));
        }
      }
    }
  }

  private static boolean settled(Map<String, GenerationStatus> statuses, List<BadRequests.Case> cases, int good) {
    long done = statuses.values().stream().filter(s -> s.getRequestId().startsWith("good-")
        && s.getState() == RequestState.DONE).count();
    return done == good && cases.stream().allMatch(c -> statuses.containsKey(c.statusKey()));
  }
}

package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.streams.Topics;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** Two generator instances share one request's images; stopping one mid-run loses nothing and duplicates nothing. */
class SharedLoadIT {
  @Test
  void shouldSpreadARequestOverTwoInstancesAndSurviveStoppingOne() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-share");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 128, 16, 16, 6, false);
    Topics topics = Topics.withPrefix("share.");
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      kafka.createTopics(topics);
      ServeProcess a = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 128, "share.",
          "share-it", dir.resolve("state-a"), dir.resolve("a.log")).start();
      ServeProcess b = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 128, "share.",
          "share-it", dir.resolve("state-b"), dir.resolve("b.log")).start();
      SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
      try (KafkaProducer<String, GenerationRequest> producer = new KafkaProducer<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(),
          new AvroSerde<>(client, GenerationRequest.class, false).serializer())) {
        producer.send(new ProducerRecord<>(topics.requests(), "shared", GenerationRequest.newBuilder()
            .setRequestId("shared").setModel("data").setCount(200).setSeed(5)
            .setSampler(SamplerSpec.newBuilder().setSolver("rk45").setRtol(1e-6).setAtol(1e-6).build()).build()))
            .get();
      }
      Set<Integer> images = new HashSet<>();
      int records = 0;
      long aBefore = -1;
      long bBefore = -1;
      try (KafkaConsumer<String, GeneratedImage> consumer = new KafkaConsumer<>(Map.of(
          ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "share-c",
          ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
          new StringDeserializer(), new AvroSerde<>(client, GeneratedImage.class, false).deserializer())) {
        consumer.subscribe(List.of(topics.images()));
        long deadline = System.nanoTime() + Duration.ofMinutes(6).toNanos();
        while (images.size() < 200 && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, GeneratedImage> r : consumer.poll(Duration.ofMillis(200))) {
            images.add(r.value().getIndex());
            records++;
          }
          assertTrue(b.isAlive(), "instance b died: " + b.log());
          if (aBefore < 0 && a.completed() > 0 && b.completed() > 0) {
            aBefore = a.completed();
            bBefore = b.completed();
            a.stop(); // graceful: its unfinished tasks stay in the changelog and move to b
          }
        }
        for (int i = 0; i < 10; i++) {
          records += consumer.poll(Duration.ofMillis(200)).count();
        }
      } finally {
        a.stop();
        b.stop();
      }
      assertTrue(aBefore > 0 && bBefore > 0, "both instances generated images before one stopped (a " + aBefore
          + ", b " + bBefore + "); logs: " + a.log() + b.log());
      assertTrue(aBefore < 200, "a was stopped mid-run");
      assertEquals(200, images.size(), "every image arrived");
      assertEquals(200, records, "none twice");
    }
  }
}

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
import io.fieldline.streams.local.LocalRegistry;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The broker is stopped (SIGTERM, a controlled shutdown) in the middle of a request and started again 15 s later on
 * the same ports and log directory, while {@code fieldline serve} runs: serve rides it out without a restart by hand,
 * and a read_committed consumer sees every image exactly once and the request DONE.
 */
class BrokerRestartIT {
  private static final int COUNT = 150;

  @Test
  void shouldEmitEachImageOnceAcrossABrokerRestart() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-broker-restart");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 128, 16, 16, 5, false);
    Topics topics = Topics.withPrefix("restart.");
    try (ChildKafka kafka = ChildKafka.start(Files.createDirectories(dir.resolve("broker")));
         LocalRegistry registry = LocalRegistry.start()) {
      ServeProcess serve = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 128, "restart.",
          "restart-it", dir.resolve("state"), dir.resolve("serve.log")).start(); // serve creates the topics
      try {
        long up = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!serve.log().contains("serving ") && System.nanoTime() < up) {
          assertTrue(serve.isAlive(), serve.log());
          Thread.sleep(200);
        }
        SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
        try (KafkaProducer<String, GenerationRequest> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(),
            new AvroSerde<>(client, GenerationRequest.class, false).serializer())) {
          producer.send(new ProducerRecord<>(topics.requests(), "across", GenerationRequest.newBuilder()
              .setRequestId("across").setModel("data").setCount(COUNT).setSeed(17)
              .setSampler(SamplerSpec.newBuilder().setSolver("rk45").setRtol(1e-6).setAtol(1e-6).build()).build()))
              .get();
        }
        Map<Integer, Integer> seen = new HashMap<>();
        GenerationStatus last = null;
        boolean restarted = false;
        try (KafkaConsumer<String, GeneratedImage> images = consumer(kafka, client, GeneratedImage.class, "images");
             KafkaConsumer<String, GenerationStatus> statuses = consumer(kafka, client, GenerationStatus.class,
                 "status")) {
          images.subscribe(List.of(topics.images()));
          statuses.subscribe(List.of(topics.status()));
          long deadline = System.nanoTime() + Duration.ofMinutes(6).toNanos();
          while (!(seen.size() == COUNT && last != null && last.getState() == RequestState.DONE)
              && System.nanoTime() < deadline) {
            assertTrue(serve.isAlive(), "serve died: " + serve.log());
            for (ConsumerRecord<String, GeneratedImage> r : images.poll(Duration.ofMillis(200))) {
              seen.merge(r.value().getIndex(), 1, Integer::sum);
            }
            for (ConsumerRecord<String, GenerationStatus> r : statuses.poll(Duration.ofMillis(50))) {
              if (r.key().equals("across")) {
                last = r.value();
              }
            }
            if (!restarted && seen.size() >= 30) {
              assertTrue(seen.size() < COUNT, "the request finished before the broker could be stopped");
              kafka.stop();
              Thread.sleep(15_000);
              assertTrue(serve.isAlive(), "serve waits for the broker: " + serve.log());
              kafka.startAgain();
              restarted = true;
            }
          }
          for (int i = 0; i < 10; i++) {
            for (ConsumerRecord<String, GeneratedImage> r : images.poll(Duration.ofMillis(200))) {
              seen.merge(r.value().getIndex(), 1, Integer::sum); // nothing more may come
            }
          }
        }
        assertTrue(restarted, "the broker was restarted mid-request");
        assertEquals(COUNT, seen.size(), "every image; serve log:\n" + serve.log());
        seen.forEach((index, times) -> assertEquals(1, times, "image " + index + " exactly once"));
        assertEquals(RequestState.DONE, last.getState());
        assertEquals(COUNT, last.getDone());
        assertEquals(0, serve.stop(), "a clean SIGTERM close after the restart: " + serve.log());
      } finally {
        if (serve.isAlive()) {
          serve.kill();
        }
      }
    }
  }

  private static <T extends org.apache.avro.specific.SpecificRecord> KafkaConsumer<String, T> consumer(
      ChildKafka kafka, SchemaRegistryClient client, Class<T> type, String group) {
    return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "restart-" + group, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(),
        new AvroSerde<>(client, type, false).deserializer());
  }
}

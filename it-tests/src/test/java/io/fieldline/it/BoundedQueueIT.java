package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.streams.Topics;
import io.fieldline.streams.client.FieldlineClient;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Memory stays bounded with 10,000 queued requests: a `fieldline serve` child with a 256 MiB heap receives 10,000
 * one-image requests at once, each with a 40 s deadline. Every request must end (DONE, or EXPIRED when its deadline
 * passed while it waited; REJECTED only for a deadline that passed before validation reached it), the process must
 * stay alive and ready, and it must have held thousands of unfinished images at once.
 */
class BoundedQueueIT {
  private static final int REQUESTS = 10_000;

  @Test
  void shouldKeepServingWithTenThousandQueuedRequestsInASmallHeap() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-bounded");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 64, 16, 16, 11, false);
    Topics topics = Topics.withPrefix("bounded.");
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      kafka.createTopics(topics);
      ServeProcess serve = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 64, "bounded.",
          "bounded-it", dir.resolve("state"), dir.resolve("serve.log")).withJvmOption("-Xmx256m")
          .withArgs("--max-queued", "20000", "--max-queued-per-client", "20000").start();
      SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
      Map<String, GenerationStatus> last = new HashMap<>();
      double peakHeap = 0;
      double peakUnfinished = 0;
      try {
        long deadline = Instant.now().plusSeconds(40).toEpochMilli();
        try (FieldlineClient fieldline = FieldlineClient.builder().setBootstrapServers(kafka.bootstrapServers())
            .setRegistry(client).optTopics(topics).build()) {
          List<GenerationRequest> requests = new java.util.ArrayList<>();
          for (int i = 0; i < REQUESTS; i++) {
            requests.add(GenerationRequest.newBuilder().setRequestId("q" + i).setModel("data").setCount(1).setSeed(i)
                .setClientId("bulk").setDeadlineEpochMs(deadline)
                .setSampler(SamplerSpec.newBuilder().setSolver("rk45").setRtol(1e-5).setAtol(1e-5).build()).build());
          }
          fieldline.submitAll(requests);
        }
        try (KafkaConsumer<String, GenerationStatus> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "bounded-c", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(),
            new AvroSerde<>(client, GenerationStatus.class, false).deserializer())) {
          consumer.subscribe(List.of(topics.status()));
          long stop = System.nanoTime() + Duration.ofMinutes(5).toNanos();
          long nextScrape = 0;
          while (ended(last) < REQUESTS && System.nanoTime() < stop) {
            for (ConsumerRecord<String, GenerationStatus> r : consumer.poll(Duration.ofMillis(200))) {
              last.put(r.key(), r.value());
            }
            assertTrue(serve.isAlive(), "serve died: " + tail(serve.log()));
            if (System.nanoTime() > nextScrape) {
              String metrics = scrape(serve.metricsUrl()); // "" while serve is still starting its HTTP endpoint
              peakHeap = Math.max(peakHeap, sum(metrics, "jvm_memory_used_bytes{area=\"heap\""));
              peakUnfinished = Math.max(peakUnfinished, sum(metrics, "fieldline_images_unfinished"));
              nextScrape = System.nanoTime() + Duration.ofSeconds(1).toNanos();
            }
          }
        }
        Map<RequestState, Integer> outcomes = new EnumMap<>(RequestState.class);
        last.values().forEach(s -> outcomes.merge(s.getState(), 1, Integer::sum));
        System.out.printf("BoundedQueueIT: outcomes %s, peak unfinished %.0f, peak heap %.0f MiB%n", outcomes,
            peakUnfinished, peakHeap / (1 << 20));
        assertEquals(REQUESTS, ended(last), "every request ended: " + outcomes + "; " + tail(serve.log()));
        for (GenerationStatus s : last.values()) {
          assertTrue(s.getState() == RequestState.DONE || s.getState() == RequestState.EXPIRED
              || (s.getState() == RequestState.REJECTED && s.getReason().contains("has already passed")),
              s.toString());
        }
        assertTrue(peakUnfinished >= 1000, "thousands were queued at once: peak " + peakUnfinished);
        assertTrue(peakHeap > 0, "the heap was measured (the bound itself is -Xmx256m: surviving it is the test)");
        assertEquals(200, status(serve.metricsUrl().replace("/metrics", "/ready")), "still ready");
        assertFalse(serve.log().contains("OutOfMemoryError"), tail(serve.log()));
      } finally {
        serve.stop();
      }
    }
  }

  private static int ended(Map<String, GenerationStatus> last) {
    return (int) last.values().stream().filter(s -> s.getState() != RequestState.ACCEPTED
        && s.getState() != RequestState.RUNNING).count();
  }

  private static String scrape(String url) {
    try {
      return get(url);
    } catch (java.io.IOException e) {
      return "";
    }
  }

  private static String get(String url) throws java.io.IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    try {
      return new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      c.disconnect();
    }
  }

  private static int status(String url) throws Exception {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    try {
      return c.getResponseCode();
    } finally {
      c.disconnect();
    }
  }

  /** The sum of the Prometheus samples whose line starts with {@code prefix}. */
  private static double sum(String metrics, String prefix) {
    return metrics.lines().filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  private static String tail(String log) {
    return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
  }
}

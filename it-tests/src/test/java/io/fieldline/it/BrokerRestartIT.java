package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.streams.Topics;
import io.fieldline.streams.client.FieldlineClient;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
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
        Map<Integer, Integer> seen = new HashMap<>();
        boolean[] restarted = {false};
        FieldlineClient.Outcome outcome;
        try (FieldlineClient fieldline = FieldlineClient.builder().setBootstrapServers(kafka.bootstrapServers())
            .setRegistry(client).optTopics(topics).build()) {
          outcome = fieldline.submitAndFollow(GenerationRequest.newBuilder().setRequestId("across").setModel("data")
              .setCount(COUNT).setSeed(17)
              .setSampler(SamplerSpec.newBuilder().setSolver("rk45").setRtol(1e-6).setAtol(1e-6).build()).build(),
              Duration.ofMinutes(6), serve::isAlive, (image, png) -> {
                seen.merge(image.getIndex(), 1, Integer::sum); // every record the read_committed reader gets
                if (!restarted[0] && seen.size() >= 30) {
                  assertTrue(seen.size() < COUNT, "the request finished before the broker could be stopped");
                  try {
                    kafka.stop();
                    Thread.sleep(15_000);
                    assertTrue(serve.isAlive(), "serve waits for the broker: " + serve.log());
                    kafka.startAgain();
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                  restarted[0] = true;
                }
              });
          // What the topic holds, not what one reader happened to see: a second reader of the whole topic, started
          // after the restart, sees each image once too.
          Map<Integer, Integer> again = new HashMap<>();
          fieldline.follow("across", Duration.ofMinutes(1), (image, png) -> again.merge(image.getIndex(), 1,
              Integer::sum));
          assertEquals(COUNT, again.size(), "a second reader sees every image");
          again.forEach((index, times) -> assertEquals(1, times, "image " + index + " once in the topic"));
        }
        assertTrue(serve.isAlive(), "serve died: " + serve.log());
        assertTrue(restarted[0], "the broker was restarted mid-request");
        assertEquals(COUNT, seen.size(), "every image; serve log:\n" + serve.log());
        seen.forEach((index, times) -> assertEquals(1, times, "image " + index + " exactly once"));
        assertTrue(outcome.done(), "the request ended DONE: " + outcome.last());
        assertEquals(COUNT, outcome.last().getDone());
        assertEquals(0, serve.stop(), "a clean SIGTERM close after the restart: " + serve.log());
      } finally {
        if (serve.isAlive()) {
          serve.kill();
        }
      }
    }
  }
}

package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.streams.Topics;
import io.fieldline.streams.client.FieldlineClient;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
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
      Set<Integer> images = new HashSet<>();
      int[] records = {0};
      long[] before = {-1, -1}; // a's and b's images when a was stopped
      try (FieldlineClient fieldline = FieldlineClient.builder().setBootstrapServers(kafka.bootstrapServers())
          .setRegistry(client).optTopics(topics).build()) {
        fieldline.submit(GenerationRequest.newBuilder().setRequestId("shared").setModel("data").setCount(200).setSeed(5)
            .setSampler(SamplerSpec.newBuilder().setSolver("rk45").setRtol(1e-6).setAtol(1e-6).build()).build());
        fieldline.follow("shared", Duration.ofMinutes(6), () -> true, (image, png) -> {
          images.add(image.getIndex());
          records[0]++; // every record the read_committed reader gets, duplicates included
          try {
            assertTrue(b.isAlive(), "instance b died: " + b.log());
            if (before[0] < 0 && a.completed() > 0 && b.completed() > 0) {
              before[0] = a.completed();
              before[1] = b.completed();
              a.stop(); // graceful: its unfinished tasks stay in the changelog and move to b
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
      } finally {
        a.stop();
        b.stop();
      }
      long aBefore = before[0];
      long bBefore = before[1];
      assertTrue(aBefore > 0 && bBefore > 0, "both instances generated images before one stopped (a " + aBefore
          + ", b " + bBefore + "); logs: " + a.log() + b.log());
      assertTrue(aBefore < 200, "a was stopped mid-run");
      assertEquals(200, images.size(), "every image arrived");
      assertEquals(200, records[0], "none twice");
    }
  }
}

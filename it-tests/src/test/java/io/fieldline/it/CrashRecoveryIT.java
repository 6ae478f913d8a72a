package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.data.IdxFixtures;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.server.ModelLoader;
import io.fieldline.server.SampleImages;
import io.fieldline.streams.Topics;
import io.fieldline.streams.client.FieldlineClient;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The generator as a separate JVM ({@code fieldline serve}), killed with SIGKILL three times during a 200-image request
 * (after about 30, 80 and 130 committed images, with random jitter: by progress, not by the clock, so a faster or
 * slower machine kills at the same stages) and restarted: a read_committed consumer sees exactly 200 distinct images, each byte-identical
 * to the image an uninterrupted run makes (the library's, which PipelineIT shows equal to the pipeline's).
 */
class CrashRecoveryIT {
  @Test
  void shouldEmitEachImageOnceAfterThreeSigkills() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-crash");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 128, 16, 16, 5, false);
    Topics topics = Topics.withPrefix("crash.");
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      kafka.createTopics(topics);
      Path log = dir.resolve("serve.log");
      ServeProcess generator = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 128,
          "crash.", "crash-it", dir.resolve("state"), log).start();
      SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
      SamplerSettings settings = SamplerSettings.rk45(1e-6);
      Map<Integer, byte[]> images = new HashMap<>();
      int[] records = {0};
      int[] kills = {0};
      Random random = new Random(2026);
      int[] killAt = {30 + random.nextInt(10), 80 + random.nextInt(10), 130 + random.nextInt(10)};
      try (FieldlineClient fieldline = FieldlineClient.builder().setBootstrapServers(kafka.bootstrapServers())
          .setRegistry(client).optTopics(topics).build()) {
        fieldline.submitAndFollow(GenerationRequest.newBuilder().setRequestId("big").setModel("data").setCount(200)
            .setSeed(31).setSampler(SamplerSpec.newBuilder().setSolver("rk45").setRtol(1e-6).setAtol(1e-6).build())
            .build(), Duration.ofMinutes(6), () -> true, (image, png) -> { // until DONE and every image is read
              images.put(image.getIndex(), png);
              records[0]++; // every record the read_committed reader gets, duplicates included
              if (kills[0] < 3 && images.size() >= killAt[kills[0]]) {
                try {
                  generator.kill();
                  kills[0]++;
                  generator.start();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }
            });
        assertEquals(3, kills[0]);
        // Nothing more may come: a second reader of the whole topic sees the request's images once each.
        Map<Integer, Integer> again = new HashMap<>();
        fieldline.follow("big", Duration.ofMinutes(1), (image, png) -> again.merge(image.getIndex(), 1, Integer::sum));
        assertEquals(200, again.size(), "a second reader sees every image");
        again.forEach((index, times) -> assertEquals(1, times, "image " + index + " once for a second reader too"));
      } finally {
        generator.stop();
      }
      assertEquals(200, images.size(), "distinct images; generator log: " + log);
      assertEquals(200, records[0], "no duplicates for a read_committed consumer");
      try (FieldModel model = ModelLoader.builder().optExactSize(128).build().load("exact:" + data)) {
        for (int index = 0; index < 200; index += 9) {
          var task = io.fieldline.core.engine.SampleTask.of("big", index, 31, settings);
          Flows.Result expected = Flows.sample(model, settings, 31, index);
          assertArrayEquals(SampleImages.png(model, task, expected.x(), expected.nfe()), images.get(index),
              "image " + index);
        }
      }
    }
  }
}

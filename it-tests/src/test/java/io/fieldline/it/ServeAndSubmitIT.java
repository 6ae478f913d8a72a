package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.streams.Topics;
import io.fieldline.streams.local.LocalKafka;
import io.fieldline.streams.local.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
}

package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.streams.Topics;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Python feed for training jobs (clients/python) against a real broker, a real registry and a running serve:
 * it submits a class request, reads the images as a PyTorch IterableDataset with labels, and sees a rejection.
 * Needs Debian's python3-confluent-kafka, python3-avro and python3-torch (.ci/run installs them).
 */
class PythonFeedIT {
  private static final String PYTHON = "/usr/bin/python3";

  @Test
  void shouldFeedLabelledImagesToAPyTorchDataLoader() throws Exception {
    Process probe = new ProcessBuilder(PYTHON, "-c", "import confluent_kafka, avro, torch").redirectErrorStream(true)
        .start();
    String missing = new String(probe.getInputStream().readAllBytes());
    assumeTrue(probe.waitFor() == 0, "skipped: the Python feed needs python3-confluent-kafka, python3-avro and "
        + "python3-torch (apt-get install them; .ci/run does): " + missing);
    Path dir = Files.createTempDirectory("fieldline-python");
    Path data = IdxFixtures.writeLabelled(dir, "toy", 12, 6, 6, 7, 3);
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      kafka.createTopics(Topics.withPrefix("py."));
      ServeProcess serve = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 12, "py.",
          "py-it", dir.resolve("state"), dir.resolve("serve.log")).start();
      try {
        Process feed = new ProcessBuilder(PYTHON, Path.of("..", "clients", "python", "tests", "feed_it.py").toString(),
            "--bootstrap", kafka.bootstrapServers(), "--registry", registry.confluentUrl(), "--prefix", "py.",
            "--model", "data").redirectErrorStream(true).redirectOutput(dir.resolve("feed.log").toFile()).start();
        assertTrue(feed.waitFor(6, TimeUnit.MINUTES), "the feed finished");
        String log = Files.readString(dir.resolve("feed.log"));
        assertEquals(0, feed.exitValue(), log + "\nserve:\n" + serve.log());
        assertTrue(log.contains("python feed: all checks passed"), log);
      } finally {
        serve.stop();
      }
    }
  }
}

package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** serve sets itself up on a bare cluster, says when it is ready, and exits 0 when stopped with SIGTERM. */
class ServeSetupIT {
  @Test
  void shouldCreateItsTopicsOrNameTheMissingOnesAndStopCleanly() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-setup");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 8, 6, 6, 3, false);
    try (LocalKafka kafka = LocalKafka.start(); LocalRegistry registry = LocalRegistry.start()) {
      // No topics on this broker. With creation switched off, serve names what is missing and exits 2.
      ServeProcess checkOnly = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 8, "bare.",
          "setup-it", dir.resolve("state-0"), dir.resolve("check.log")).withArgs("--no-create-topics").start();
      assertEquals(2, checkOnly.waitFor(Duration.ofMinutes(2)), checkOnly.log());
      assertTrue(checkOnly.log().contains("missing topics [bare.requests"), checkOnly.log());

      // Two instances on one host, each with a free metrics port it prints; the first creates the topics.
      ServeProcess first = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 8, "bare.",
          "setup-it", dir.resolve("state-1"), dir.resolve("first.log")).withEphemeralMetricsPort().start();
      ServeProcess second = null;
      try {
        waitFor(first, "ready: consuming bare.requests");
        assertTrue(first.log().contains("created topics"), first.log());
        String log = first.log();
        assertTrue(log.indexOf("models: data ready") >= 0 && log.indexOf("models: data ready")
            < log.indexOf("ready: consuming"), "the model is loaded before serve joins the group: " + log);
        second = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 8, "bare.",
            "setup-it", dir.resolve("state-2"), dir.resolve("second.log")).withEphemeralMetricsPort().start();
        waitFor(second, "ready: consuming bare.requests");
        assertTrue(!second.log().contains("created topics"), "the topics existed: " + second.log());
        int a = first.printedMetricsPort();
        int b = second.printedMetricsPort();
        assertTrue(a > 0 && b > 0, a + " " + b);
        assertNotEquals(a, b);
        HttpURLConnection health = (HttpURLConnection) URI.create("http://127.0.0.1:" + b + "/health").toURL()
            .openConnection();
        assertEquals(200, health.getResponseCode());
        assertEquals(0, second.stop(), "SIGTERM closes cleanly and exits 0: " + second.log());
        second = null;
        assertEquals(0, first.stop(), "SIGTERM closes cleanly and exits 0: " + first.log());
        first = null;
      } finally {
        if (second != null) {
          second.kill();
        }
        if (first != null) {
          first.kill();
        }
      }
    }
  }

  private static void waitFor(ServeProcess serve, String line) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!serve.log().contains(line)) {
      if (System.nanoTime() > deadline || !serve.isAlive()) {
        throw new AssertionError("no '" + line + "' in the serve log:\n" + serve.log());
      }
      Thread.sleep(200);
    }
  }
}

package io.fieldline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/** The endpoints before Kafka Streams exists: alive, not ready, saying what start-up waits for; metrics served. */
class HealthServerTest {
  @Test
  void shouldBeAliveButNotReadyWhileStartingAndSayWhy() throws Exception {
    AtomicReference<KafkaStreams> streams = new AtomicReference<>();
    AtomicReference<String> waiting = new AtomicReference<>("waiting for the schema registry");
    try (HealthServer server = HealthServer.start(0, () -> "fieldline_up 1\n", streams::get, waiting::get)) {
      assertTrue(server.port() > 0, "port 0 picks a free port");
      assertEquals("200 STARTING", get(server, "/health"));
      assertEquals("503 STARTING: waiting for the schema registry", get(server, "/ready"));
      waiting.set("creating topics");
      assertEquals("503 STARTING: creating topics", get(server, "/ready"));
      assertEquals("200 fieldline_up 1\n", get(server, "/metrics"));
    }
  }

  private static String get(HealthServer server, String path) throws Exception {
    HttpURLConnection c = (HttpURLConnection) URI.create("http://localhost:" + server.port() + path).toURL()
        .openConnection();
    int status = c.getResponseCode();
    byte[] body = (status < 400 ? c.getInputStream() : c.getErrorStream()).readAllBytes();
    return status + " " + new String(body, StandardCharsets.UTF_8);
  }
}

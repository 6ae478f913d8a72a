package io.fieldline.streams;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The HTTP endpoints of a running pipeline, beside it: {@code /metrics} (the text a supplier gives, e.g. Prometheus'
 * scrape), {@code /health} (liveness: 503 only when Kafka Streams is in ERROR) and {@code /ready} (200 only when Kafka
 * Streams is RUNNING). Before Kafka Streams exists (waiting for the schema registry at start), {@code /health} answers
 * 200 {@code STARTING} and {@code /ready} 503 with what it waits for, so an orchestrator neither kills nor routes to it.
 */
public final class HealthServer implements AutoCloseable {
  private final HttpServer http;

  private HealthServer(HttpServer http) {
    this.http = http;
  }

  /**
   * Starts the endpoints.
   *
   * @param port the port, 0 for a free one (see {@link #port()})
   * @param metrics the body of /metrics
   * @param streams the pipeline's Kafka Streams client, or null while it does not exist yet
   * @param waiting what start-up waits for, shown by /ready before Kafka Streams exists
   * @throws IOException when the port cannot be bound
   */
  public static HealthServer start(int port, Supplier<String> metrics, Supplier<KafkaStreams> streams,
      Supplier<String> waiting) throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress(port), 0);
    http.createContext("/metrics", ex -> reply(ex, 200, metrics.get()));
    http.createContext("/health", ex -> {
      KafkaStreams s = streams.get();
      reply(ex, s != null && s.state() == KafkaStreams.State.ERROR ? 503 : 200, s == null ? "STARTING"
          : s.state().name());
    });
    http.createContext("/ready", ex -> {
      KafkaStreams s = streams.get();
      reply(ex, s != null && s.state() == KafkaStreams.State.RUNNING ? 200 : 503, s == null
          ? "STARTING: " + waiting.get() : s.state().name());
    });
    http.start();
    return new HealthServer(http);
  }

  /** The port it listens on. */
  public int port() {
    return http.getAddress().getPort();
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  /** Stops answering (immediately). */
  @Override
  public void close() {
    http.stop(0);
  }
}

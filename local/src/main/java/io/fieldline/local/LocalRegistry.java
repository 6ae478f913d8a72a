package io.fieldline.local;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Apicurio Registry (2.4.2, in-memory storage) as a child process, for `fieldline demo` and the integration
 * tests. The runnable jar is built by the it-tests/registry module and named by the system property
 * {@value #JAR_PROPERTY}, which {@code ./fieldline} and the integration tests' failsafe configuration set. Its
 * Confluent-compatible API is {@link #confluentUrl()}; stopping the process discards every schema.
 */
public final class LocalRegistry implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;

  private LocalRegistry(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** The jar's file name. */
  public static final String JAR = "fieldline-registry-app-0.1.0-SNAPSHOT-runner.jar";

  /** The system property that names the registry jar. */
  public static final String JAR_PROPERTY = "fieldline.registry.jar";

  /**
   * The registry jar named by the system property {@value #JAR_PROPERTY}.
   *
   * @throws IllegalArgumentException when the property is not set (a setting the user gives; the message says how)
   */
  public static Path defaultJar() {
    String property = System.getProperty(JAR_PROPERTY);
    if (property == null || property.isBlank()) {
      throw new IllegalArgumentException("no schema registry jar: set -D" + JAR_PROPERTY + "=<path to " + JAR + ">, "
          + "built by mvn -B -pl it-tests/registry -am package -DskipTests (./fieldline sets it)");
    }
    return Path.of(property);
  }

  /** Starts the registry of {@link #defaultJar()}. */
  public static LocalRegistry start() throws IOException, InterruptedException {
    return start(defaultJar());
  }

  /** Starts the registry on a free port and waits (up to 2 minutes) until it answers. */
  public static LocalRegistry start(Path jarPath) throws IOException, InterruptedException {
    String jar = jarPath.toString();
    if (!Files.isRegularFile(jarPath)) {
      throw new IllegalStateException("the Apicurio registry jar is missing: " + jar
          + " (build it with: mvn -B -pl it-tests/registry -am package -DskipTests)");
    }
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path log = Files.createTempFile("apicurio", ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(List.of(java, "-Xmx384m", "-Dquarkus.http.port=" + port, "-jar", jar))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    LocalRegistry server = new LocalRegistry(p, port, log);
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("the registry exited with " + p.exitValue() + "; log: " + Files.readString(log));
      }
      if (server.ready()) {
        return server;
      }
      Thread.sleep(250);
    }
    server.close();
    throw new IllegalStateException("the registry did not answer within 2 minutes; log: " + log);
  }

  private boolean ready() {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(confluentUrl() + "/subjects").toURL().openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(1000);
      return c.getResponseCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  /** The Confluent-compatible API. */
  public String confluentUrl() {
    return "http://127.0.0.1:" + port + "/apis/ccompat/v7";
  }

  /** Apicurio's own v2 API (for Apicurio's serdes). */
  public String apicurioUrl() {
    return "http://127.0.0.1:" + port + "/apis/registry/v2";
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

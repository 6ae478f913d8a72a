package io.fieldline.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A real single-node KRaft broker (combined broker and controller) in a child process, on fixed ports and a fixed
 * log directory, so it can be stopped and started again where clients expect it: what a broker restart looks like
 * from outside. Runs Kafka's own {@code kafka.Kafka} main from the test classpath; output goes to a log file.
 */
final class ChildKafka implements AutoCloseable {
  private final Path dir;
  private final int port;
  private final Path properties;
  private Process process;

  private ChildKafka(Path dir) throws Exception {
    this.dir = dir;
    this.port = freePort();
    int controllerPort = freePort();
    this.properties = dir.resolve("server.properties");
    Files.writeString(properties, String.join("\n",
        "process.roles=broker,controller",
        "node.id=1",
        "controller.quorum.voters=1@localhost:" + controllerPort,
        "listeners=PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort,
        "advertised.listeners=PLAINTEXT://localhost:" + port,
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        "log.dirs=" + dir.resolve("logs"),
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "") , StandardCharsets.UTF_8);
    Process format = new ProcessBuilder(java("kafka.tools.StorageTool", "format", "-t",
        org.apache.kafka.common.Uuid.randomUuid().toString(), "-c", properties.toString()))
        .redirectErrorStream(true).redirectOutput(dir.resolve("format.log").toFile()).start();
    if (format.waitFor() != 0) {
      throw new IllegalStateException("formatting the broker's storage failed: "
          + Files.readString(dir.resolve("format.log")));
    }
  }

  /** Formats a new log directory under {@code dir} and starts the broker; returns once it answers. */
  static ChildKafka start(Path dir) throws Exception {
    ChildKafka kafka = new ChildKafka(dir);
    kafka.startAgain();
    return kafka;
  }

  String bootstrapServers() {
    return "localhost:" + port;
  }

  /** Starts the (stopped) broker on the same ports and log directory; returns once it answers. */
  void startAgain() throws Exception {
    process = new ProcessBuilder(java("kafka.Kafka", properties.toString())).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile())).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (true) {
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
          AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000))) {
        if (!admin.describeCluster().nodes().get().isEmpty()) {
          return;
        }
      } catch (Exception notYet) {
        // not up yet: retried below
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        close(); // never leave a half-started broker behind
        throw new IllegalStateException("the broker did not come up within 90 s: " + log());
      }
      Thread.sleep(500);
    }
  }

  /** Stops the broker as an operator would (SIGTERM: a controlled shutdown) and waits for the process to end. */
  void stop() throws Exception {
    process.destroy();
    if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  String log() throws Exception {
    Path log = dir.resolve("broker.log");
    return Files.exists(log) ? Files.readString(log) : "(no broker log)";
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static List<String> java(String main, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main);
    command.addAll(List.of(args));
    return command;
  }

  private static int freePort() throws Exception {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}

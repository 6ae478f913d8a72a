package io.fieldline.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A `fieldline serve` child process (the cli jar, run, never imported) with its log file. */
final class ServeProcess {
  private final List<String> command;
  private final Path log;
  private final int metricsPort;
  private Process process;

  ServeProcess(String bootstrap, String registry, Path data, int exactSize, String prefix, String applicationId,
      Path stateDir, Path log) {
    this.log = log;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      this.metricsPort = socket.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    this.command = cli(List.of("-Xmx1g"), "serve",
        "--bootstrap-servers", bootstrap, "--registry", registry, "--alias", "data=exact:" + data,
        "--exact-size", Integer.toString(exactSize), "--topic-prefix", prefix, "--application-id", applicationId,
        "--state-dir", stateDir.toString(), "--batch", "32", "--stats-every", "PT0.5S",
        "--metrics-port", Integer.toString(metricsPort),
        "--kafka", "commit.interval.ms=100", "--kafka", "session.timeout.ms=6000",
        "--kafka", "heartbeat.interval.ms=1000");
  }

  /** More flags for the command line (call before {@link #start}), e.g. {@code --kafka-config FILE}. */
  ServeProcess withArgs(String... args) {
    command.addAll(List.of(args));
    return this;
  }

  /**
   * A JVM option before {@code -jar} (call before {@link #start}), e.g. a system property; it comes after the default
   * options, so {@code -Xmx256m} overrides the default {@code -Xmx1g}.
   */
  ServeProcess withJvmOption(String option) {
    command.add(command.indexOf("-jar"), option);
    return this;
  }

  /**
   * The command line that runs the cli jar (run as a process, never imported) with JVM options and arguments: the one
   * way every IT starts {@code fieldline}.
   */
  static List<String> cli(List<String> jvmOptions, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(System.getProperty("fieldline.cli.jar", "../cli/target/fieldline.jar"));
    command.addAll(List.of(args));
    return command;
  }

  ServeProcess start() throws Exception {
    process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    return this;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Waits up to {@code timeout} for the process to end; its exit status, or -1 if it still runs. */
  int waitFor(java.time.Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  /** SIGKILL: no shutdown hook, no clean close, an open transaction left behind. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM: the shutdown hook closes Kafka Streams cleanly; returns the exit status. */
  int stop() throws InterruptedException {
    process.destroy();
    return process.waitFor();
  }

  /** Lets serve pick a free metrics port (--metrics-port 0) and print it; call before {@link #start}. */
  ServeProcess withEphemeralMetricsPort() {
    command.set(command.indexOf("--metrics-port") + 1, "0");
    return this;
  }

  /** The metrics port serve printed ("metrics on http://localhost:PORT/metrics"), or -1 before it did. */
  int printedMetricsPort() throws Exception {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("metrics on http://localhost:(\\d+)/").matcher(log());
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** The Prometheus endpoint. */
  String metricsUrl() {
    return "http://127.0.0.1:" + metricsPort + "/metrics";
  }

  String log() throws Exception {
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** The last completed-image count the instance printed. */
  long completed() throws Exception {
    long last = 0;
    for (String line : log().split("\n")) {
      if (line.startsWith("stats: ")) {
        last = Long.parseLong(line.substring(7, line.indexOf(' ', 7)));
      }
    }
    return last;
  }
}

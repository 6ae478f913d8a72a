package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.streams.Topics;
import io.fieldline.local.LocalKafka;
import io.fieldline.local.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * `fieldline serve` and `fieldline submit` against a broker whose only client listener requires SASL/PLAIN: the
 * security settings from --kafka-config (and, for submit, the JAAS line from FIELDLINE_KAFKA_SASL_JAAS_CONFIG) reach
 * every Kafka client unchanged, the request ends DONE, and the password is in neither process's output (Kafka's own
 * config dumps included: the child processes log Kafka at INFO here).
 */
class SaslPlainIT {
  private static final String USER = "alice";
  private static final String PASSWORD = "alice-s3cret-7c1d"; // searched for in the logs: nowhere else
  private static final String KAFKA_INFO = "-Dorg.slf4j.simpleLogger.log.org.apache.kafka=info";

  private static Path dir;
  private static Path data;
  private static LocalKafka kafka;
  private static LocalRegistry registry;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("fieldline-sasl");
    data = IdxFixtures.write(dir.resolve("data.idx"), 16, 8, 8, 7, false);
    kafka = LocalKafka.startSaslPlain(Map.of(USER, PASSWORD, "bob", "bob-secret"));
    registry = LocalRegistry.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (registry != null) {
      registry.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void shouldRefuseAClientWithoutCredentials() {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers(),
        "request.timeout.ms", 5000, "default.api.timeout.ms", 10000))) {
      // A PLAINTEXT client cannot speak to a SASL listener: it never gets an answer.
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException, e.toString());
    }
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers(),
        "security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
        "sasl.jaas.config", LocalKafka.plainJaasConfig(USER, "not-the-password")))) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof SaslAuthenticationException, e.toString());
    }
  }

  @Test
  void shouldServeAndSubmitOverSaslPlainWithoutPrintingThePassword() throws Exception {
    Topics topics = Topics.withPrefix("sasl.");
    kafka.createTopics(topics);
    Path config = clientConfig("alice.properties", PASSWORD);
    ServeProcess serve = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 16, "sasl.",
        "sasl-it", dir.resolve("state"), dir.resolve("serve.log"))
        .withArgs("--kafka-config", config.toString()).withJvmOption(KAFKA_INFO).start();
    try {
      Path out = dir.resolve("images");
      // submit: the protocol and mechanism from its file, the JAAS line (the secret) from the environment.
      Path submitConfig = Files.writeString(dir.resolve("submit.properties"),
          "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n");
      Process submit = submit(submitConfig, Map.of("FIELDLINE_KAFKA_SASL_JAAS_CONFIG",
          LocalKafka.plainJaasConfig(USER, PASSWORD)), "sasl.", out, "submitted", dir.resolve("submit.log"));
      assertTrue(submit.waitFor(3, TimeUnit.MINUTES), "submit finished");
      String log = Files.readString(dir.resolve("submit.log"));
      assertEquals(0, submit.exitValue(), log + serve.log());
      assertTrue(log.contains("DONE: 8 images saved"), log);
      try (Stream<Path> files = Files.list(out)) {
        assertEquals(8, files.filter(p -> p.toString().endsWith(".png")).count());
      }
      String serveLog = serve.log();
      String settings = serveLog.lines().filter(l -> l.startsWith("kafka settings: ")).findFirst().orElse("");
      assertTrue(settings.contains("sasl.jaas.config=[hidden]"), serveLog);
      assertTrue(settings.contains("security.protocol=SASL_PLAINTEXT"), settings);
      assertTrue(settings.contains("sasl.mechanism=PLAIN"), settings);
      // Kafka's own INFO dumps (ProducerConfig values: ...) show the JAAS line as [hidden] too.
      assertTrue(serveLog.contains("sasl.jaas.config = [hidden]"), "Kafka's config dump is in the serve log");
      assertTrue(log.contains("sasl.jaas.config = [hidden]"), "Kafka's config dump is in the submit log");
      assertFalse(serveLog.contains(PASSWORD), "the password is in the serve log");
      assertFalse(log.contains(PASSWORD), "the password is in the submit log");
    } finally {
      serve.stop();
    }
    assertFalse(serve.log().contains(PASSWORD), "the password is in the serve log after shutdown");
  }

  @Test
  void shouldFailClearlyWithAWrongPassword() throws Exception {
    Topics topics = Topics.withPrefix("wrong.");
    kafka.createTopics(topics);
    Path config = clientConfig("wrong.properties", "wrong-password-a83f");
    Process submit = submit(config, Map.of(), "wrong.", dir.resolve("wrong-images"), "refused",
        dir.resolve("wrong-submit.log"));
    assertTrue(submit.waitFor(2, TimeUnit.MINUTES), "submit ends instead of hanging");
    String submitLog = Files.readString(dir.resolve("wrong-submit.log"));
    assertEquals(2, submit.exitValue(), submitLog);
    assertTrue(submitLog.contains("fieldline submit: Kafka refused this client (check security.protocol, "
        + "sasl.mechanism, sasl.jaas.config and ACLs): Authentication failed"), submitLog);
    assertFalse(submitLog.contains("wrong-password-a83f"), submitLog);

    ServeProcess serve = new ServeProcess(kafka.bootstrapServers(), registry.confluentUrl(), data, 16, "wrong.",
        "wrong-it", dir.resolve("wrong-state"), dir.resolve("wrong-serve.log"))
        .withArgs("--kafka-config", config.toString()).start();
    try {
      int status = serve.waitFor(Duration.ofMinutes(2));
      String serveLog = serve.log();
      assertNotEquals(-1, status, "serve ends instead of hanging: " + serveLog);
      assertEquals(2, status, serveLog);
      assertTrue(serveLog.contains("fieldline serve: Kafka refused this client"), serveLog);
      assertTrue(serveLog.contains("kafka settings: "), "the settings are printed before Kafka is reached");
      assertFalse(serveLog.contains("wrong-password-a83f"), serveLog);
    } finally {
      serve.stop();
    }
  }

  /** The client settings file a user keeps next to the command (the JAAS line holds the password). */
  private static Path clientConfig(String name, String password) throws Exception {
    return Files.writeString(dir.resolve(name), String.join("\n", "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanism=PLAIN", "sasl.jaas.config=" + LocalKafka.plainJaasConfig(USER, password), ""));
  }

  private static Process submit(Path config, Map<String, String> env, String prefix, Path out, String requestId,
      Path log) throws Exception {
    List<String> command = ServeProcess.cli(List.of(KAFKA_INFO), "submit",
        "--bootstrap-servers", kafka.bootstrapServers(), "--registry", registry.confluentUrl(), "--model", "data",
        "--count", "8", "--seed", "3", "--solver", "heun", "--steps", "8", "--topic-prefix", prefix,
        "--out", out.toString(), "--request-id", requestId, "--no-progress", "--timeout", "PT2M",
        "--kafka-config", config.toString());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(env);
    return builder.start();
  }
}

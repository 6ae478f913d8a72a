package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fieldline.core.data.IdxFixtures;
import io.fieldline.streams.Topics;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * {@link ServeAndSubmitIT}'s scenario on the containers of {@code docker/compose.yaml}: Kafka ({@code apache/kafka},
 * KRaft, one node) and Apicurio Registry 2.4.2 as Docker containers, the generator first as the cli jar on this host
 * and then, on request ({@code -Dfieldline.it.image=true}), as the image that {@code docker/Dockerfile} builds.
 *
 * <p>Needs a Docker engine: without one the whole class is reported as skipped (none exists on the project's build
 * machines; the same scenarios run there on the in-JVM broker and the child-process registry).
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainersIT {
  /** The images docker/compose.yaml pins; keep the two in step. */
  static final String KAFKA_IMAGE = "apache/kafka:4.3.1";
  static final String REGISTRY_IMAGE = "apicurio/apicurio-registry-mem:2.4.2.Final";

  static final Network NETWORK = Network.newNetwork();

  /** Reachable from this host at getBootstrapServers() and from the other containers at kafka:19092. */
  @Container
  static final KafkaContainer KAFKA = new KafkaContainer(DockerImageName.parse(KAFKA_IMAGE))
      .withNetwork(NETWORK).withNetworkAliases("kafka").withListener("kafka:19092");

  @Container
  static final GenericContainer<?> REGISTRY = new GenericContainer<>(DockerImageName.parse(REGISTRY_IMAGE))
      .withNetwork(NETWORK).withNetworkAliases("registry").withExposedPorts(8080)
      .waitingFor(Wait.forHttp("/apis/ccompat/v7/subjects").forStatusCode(200)
          .withStartupTimeout(Duration.ofMinutes(2)));

  @Test
  void shouldServeASubmittedRequestOnBrokerAndRegistryContainers() throws Exception {
    Path dir = Files.createTempDirectory("fieldline-containers");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 16, 8, 8, 7, false);
    createTopics(Topics.withPrefix("ctr."));
    ServeProcess serve = new ServeProcess(KAFKA.getBootstrapServers(), registryUrl(), data, 16, "ctr.", "ctr-it",
        dir.resolve("state"), dir.resolve("serve.log")).start();
    try {
      submitAndCheck(dir, "ctr.", () -> {
        try {
          return serve.log();
        } catch (Exception e) {
          return e.toString();
        }
      });
      assertMetrics(fetch(serve.metricsUrl()));
    } finally {
      serve.stop();
    }
  }

  @Test
  void shouldServeFromTheGeneratorImage() throws Exception {
    assumeTrue(Boolean.getBoolean("fieldline.it.image"), "the generator image is built only with "
        + "-Dfieldline.it.image=true: docker/Dockerfile runs the Maven build inside Docker, which downloads every "
        + "dependency from Maven Central (several minutes, about 1 GB)");
    Path root = Path.of(System.getProperty("fieldline.root", "..")).toAbsolutePath().normalize();
    Path dir = Files.createTempDirectory("fieldline-image");
    Path data = IdxFixtures.write(dir.resolve("data.idx"), 16, 8, 8, 7, false);
    createTopics(Topics.withPrefix("img."));
    try (GenericContainer<?> generator = new GenericContainer<>(generatorImage(root))
        .withNetwork(NETWORK)
        .withCopyFileToContainer(MountableFile.forHostPath(data, 0644), "/tmp/it/data.idx")
        // Configured as docker/compose.yaml configures it: fieldline's FIELDLINE_* variables, the image's defaults
        // for --models-dir and --state-dir, and a plain `serve`.
        .withEnv(Map.of("FIELDLINE_BOOTSTRAP_SERVERS", "kafka:19092",
            "FIELDLINE_REGISTRY", "http://registry:8080/apis/ccompat/v7", "FIELDLINE_TOPIC_PREFIX", "img.",
            "FIELDLINE_SERVE_APPLICATION_ID", "img-it", "FIELDLINE_SERVE_ALIAS_DATA", "exact:/tmp/it/data.idx",
            "FIELDLINE_SERVE_EXACT_SIZE", "16", "FIELDLINE_SERVE_BATCH", "32", "FIELDLINE_SERVE_STATS_EVERY", "PT0.5S",
            "FIELDLINE_SERVE_KAFKA_COMMIT_INTERVAL_MS", "100"))
        .withCommand("serve")
        .withExposedPorts(9464)
        // The image's own HEALTHCHECK (/ready: Kafka Streams RUNNING) decides when it has started.
        .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofMinutes(3)))) {
      generator.start();
      assertNotEquals("0", generator.execInContainer("id", "-u").getStdout().trim(), "runs as a non-root user");
      submitAndCheck(dir, "img.", generator::getLogs);
      assertMetrics(fetch("http://" + generator.getHost() + ":" + generator.getMappedPort(9464) + "/metrics"));

      // docker stop: SIGTERM, then SIGKILL (exit 137) if the JVM has not closed Kafka Streams within 40 s.
      generator.getDockerClient().stopContainerCmd(generator.getContainerId()).withTimeout(40).exec();
      Long exit = generator.getDockerClient().inspectContainerCmd(generator.getContainerId()).exec().getState()
          .getExitCodeLong();
      assertTrue(exit != null && (exit == 0 || exit == 143), "closed on SIGTERM, exit status " + exit + "\n"
          + generator.getLogs());
    }
  }

  /** As LocalKafka.createTopics(Topics) and docker/compose.yaml's topics job: samples 4 partitions, others 2. */
  private static void createTopics(Topics topics) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.getBootstrapServers()))) {
      List<NewTopic> list = Stream.of(topics.requests(), topics.control(), topics.samples(), topics.progress(),
          topics.images(), topics.status(), topics.deadLetters()).map(name -> {
            NewTopic topic = new NewTopic(name, name.equals(topics.samples()) ? 4 : 2, (short) 1);
            return name.equals(topics.status()) ? topic.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG,
                TopicConfig.CLEANUP_POLICY_COMPACT)) : topic;
          }).toList();
      admin.createTopics(list).all().get();
    }
  }

  private static String registryUrl() {
    return "http://" + REGISTRY.getHost() + ":" + REGISTRY.getMappedPort(8080) + "/apis/ccompat/v7";
  }

  /** `fieldline submit` from this host: a labelled 8-image request ends DONE with 8 PNGs saved. */
  private static void submitAndCheck(Path dir, String prefix, Supplier<String> serveLog) throws Exception {
    Path out = dir.resolve("images");
    Path log = dir.resolve("submit.log");
    Process submit = new ProcessBuilder(ServeProcess.cli(List.of(), "submit",
        "--bootstrap-servers", KAFKA.getBootstrapServers(), "--registry", registryUrl(), "--model", "data",
        "--count", "8", "--seed", "3", "--solver", "heun", "--steps", "8", "--label", "team=it",
        "--topic-prefix", prefix, "--out", out.toString(), "--request-id", "submitted", "--no-progress"))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(submit.waitFor(3, TimeUnit.MINUTES), "submit finished");
    String text = Files.readString(log);
    assertEquals(0, submit.exitValue(), text + serveLog.get());
    assertTrue(text.contains("DONE: 8 images saved"), text);
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(8, files.filter(p -> p.toString().endsWith(".png")).count());
    }
  }

  private static void assertMetrics(String metrics) {
    assertTrue(metrics.contains("fieldline_samples_total{device=\"cpu\",model=\"data\",status=\"completed\","
        + "version=\"1\"} 8.0"), metrics.lines().filter(l -> l.startsWith("fieldline")).toList().toString());
    assertTrue(metrics.contains("kafka_stream"), "Kafka Streams' own metrics");
  }

  private static String fetch(String url) throws IOException {
    try (var in = URI.create(url).toURL().openStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Directories never sent to the Docker engine; the same as the repository's .dockerignore. */
  private static final Set<String> SKIPPED = Set.of(".git", "target", "out", "node_modules", ".gl", ".idea");

  /**
   * docker/Dockerfile with the repository as its build context. Testcontainers sends the context itself and ignores
   * .dockerignore, so the files are chosen here. Kept after the run (not deleted on exit) so a rerun reuses its layers.
   * withDockerfilePath (deprecated) names the Dockerfile inside the context sent; its replacement withDockerfile(Path)
   * would make docker-java take the Dockerfile's own folder, docker/, as the context root.
   */
  @SuppressWarnings("deprecation")
  private static ImageFromDockerfile generatorImage(Path root) throws IOException {
    ImageFromDockerfile image = new ImageFromDockerfile("fieldline-generator-it:latest", false)
        .withDockerfilePath("docker/Dockerfile");
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
        Path rel = root.relativize(d);
        return SKIPPED.contains(d.getFileName().toString()) || rel.equals(Path.of("models", "runs"))
            ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
        if (attrs.isRegularFile() && !f.getFileName().toString().endsWith(".log")) {
          image.withFileFromPath(root.relativize(f).toString(), f);
        }
        return FileVisitResult.CONTINUE;
      }
    });
    return image;
  }
}

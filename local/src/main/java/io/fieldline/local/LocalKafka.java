package io.fieldline.local;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node KRaft Kafka broker (combined broker and controller) inside this JVM, for `fieldline demo` and the
 * integration tests. Uses Kafka's KafkaClusterTestKit; data lives in a temporary directory deleted on close.
 * {@link #start()} listens in PLAINTEXT; {@link #startSaslPlain} requires SASL/PLAIN.
 */
public final class LocalKafka implements AutoCloseable {
  private static final String BROKER_USER = "fieldline-broker";
  private static final String JAAS_FILE_PROPERTY = "java.security.auth.login.config";

  private final KafkaClusterTestKit cluster;
  private final Map<String, Object> adminConfig;

  private LocalKafka(KafkaClusterTestKit cluster, Map<String, Object> adminConfig) {
    this.cluster = cluster;
    this.adminConfig = adminConfig;
  }

  public static LocalKafka start() throws Exception {
    return start(new TestKitNodes.Builder(), Map.of(), Map.of());
  }

  /**
   * A broker whose only client listener requires SASL_PLAINTEXT with mechanism PLAIN, knowing {@code users} (name to
   * password). Clients need {@code security.protocol=SASL_PLAINTEXT}, {@code sasl.mechanism=PLAIN} and
   * {@code sasl.jaas.config=}{@link #plainJaasConfig}. The broker and controller authenticate to each other (the
   * controller listener is SASL/PLAIN too) as an internal super user with a random password; Kafka's
   * StandardAuthorizer runs with {@code allow.everyone.if.no.acl.found=true}, so every authenticated user may do
   * anything (the broker tests authentication, not ACLs) while unauthenticated connections are refused.
   */
  public static LocalKafka startSaslPlain(Map<String, String> users) throws Exception {
    String brokerPassword = java.util.UUID.randomUUID().toString();
    StringBuilder jaas = new StringBuilder(plainJaasConfig(BROKER_USER, brokerPassword));
    jaas.setLength(jaas.length() - 1); // the ';'
    jaas.append(" user_").append(BROKER_USER).append("=\"").append(brokerPassword).append('"');
    users.forEach((user, password) -> {
      if (!user.matches("[A-Za-z][A-Za-z0-9_-]*")) { // a JAAS option name: user_<name>
        throw new IllegalArgumentException("user names here are a letter, then letters, digits, '_' and '-': "
            + user);
      }
      jaas.append(" user_").append(user).append("=\"").append(quote(password)).append('"');
    });
    jaas.append(';');
    Map<String, Object> props = new java.util.HashMap<>();
    // Listener-prefixed JAAS settings win over the static JAAS file the test kit writes for SASL clusters.
    props.put("listener.name.external.plain.sasl.jaas.config", jaas.toString());
    props.put("listener.name.controller.plain.sasl.jaas.config", jaas.toString());
    props.put("super.users", "User:" + BROKER_USER);
    props.put("allow.everyone.if.no.acl.found", "true");
    Map<String, Object> admin = Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
        "sasl.jaas.config", plainJaasConfig(BROKER_USER, brokerPassword));
    String jaasFile = System.getProperty(JAAS_FILE_PROPERTY);
    try {
      return start(new TestKitNodes.Builder().setBrokerSecurityProtocol(SecurityProtocol.SASL_PLAINTEXT)
          .setControllerSecurityProtocol(SecurityProtocol.SASL_PLAINTEXT), props, admin);
    } finally { // the test kit points this JVM-wide property at its own JAAS file: unused here, so put it back
      if (jaasFile == null) {
        System.clearProperty(JAAS_FILE_PROPERTY);
      } else {
        System.setProperty(JAAS_FILE_PROPERTY, jaasFile);
      }
      javax.security.auth.login.Configuration.setConfiguration(null);
    }
  }

  /** The {@code sasl.jaas.config} value of a SASL/PLAIN client. */
  public static String plainJaasConfig(String user, String password) {
    return "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + quote(user)
        + "\" password=\"" + quote(password) + "\";";
  }

  private static String quote(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static LocalKafka start(TestKitNodes.Builder nodes, Map<String, Object> props, Map<String, Object> admin)
      throws Exception {
    KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes.setCombined(true)
        .setNumBrokerNodes(1).setNumControllerNodes(1).build())
        .setConfigProp("offsets.topic.replication.factor", "1")
        .setConfigProp("transaction.state.log.replication.factor", "1")
        .setConfigProp("transaction.state.log.min.isr", "1")
        .setConfigProp("group.initial.rebalance.delay.ms", "0");
    props.forEach(builder::setConfigProp);
    KafkaClusterTestKit cluster = builder.build();
    try {
      java.io.PrintStream stdout = System.out;
      try {
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())); // format() prints metadata
        cluster.format();
      } finally {
        System.setOut(stdout);
      }
      cluster.startup();
      cluster.waitForReadyBrokers();
      return new LocalKafka(cluster, admin);
    } catch (Exception | Error e) {
      try {
        cluster.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  /** Creates topics with the given partitions (replication 1); status topics are compacted. */
  public void createTopics(int partitions, String... names) throws Exception {
    try (Admin admin = cluster.admin(new java.util.HashMap<>(adminConfig))) {
      List<NewTopic> topics = java.util.Arrays.stream(names).map(n -> {
        NewTopic t = new NewTopic(n, partitions, (short) 1);
        return n.endsWith("status") ? t.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG,
            TopicConfig.CLEANUP_POLICY_COMPACT)) : t;
      }).toList();
      admin.createTopics(topics).all().get();
    }
  }

  /**
   * Creates every topic of the pipeline: {@code samples} with 4 partitions (so one request spreads over instances),
   * the others with 2; status compacted.
   */
  public void createTopics(io.fieldline.streams.Topics topics) throws Exception {
    try (Admin admin = cluster.admin(new java.util.HashMap<>(adminConfig))) {
      admin.createTopics(io.fieldline.streams.TopicSetup.defaults().newTopics(topics)).all().get();
    }
  }

  /** Stops the broker and deletes its data. */
  @Override
  public void close() {
    try {
      cluster.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the local broker", e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop the local broker: " + e.getMessage(), e);
    }
  }
}

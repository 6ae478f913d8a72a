package io.fieldline.streams.local;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real single-node KRaft Kafka broker (combined broker and controller) inside this JVM, for `fieldline demo` and the
 * integration tests. Uses Kafka's KafkaClusterTestKit; data lives in a temporary directory deleted on close.
 */
public final class LocalKafka implements AutoCloseable {
  private final KafkaClusterTestKit cluster;

  private LocalKafka(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
  }

  public static LocalKafka start() throws Exception {
    KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setCombined(true)
        .setNumBrokerNodes(1).setNumControllerNodes(1).build())
        .setConfigProp("offsets.topic.replication.factor", "1")
        .setConfigProp("transaction.state.log.replication.factor", "1")
        .setConfigProp("transaction.state.log.min.isr", "1")
        .setConfigProp("group.initial.rebalance.delay.ms", "0")
        .build();
    java.io.PrintStream stdout = System.out;
    try {
      System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())); // format() prints its metadata
      cluster.format();
    } finally {
      System.setOut(stdout);
    }
    cluster.startup();
    cluster.waitForReadyBrokers();
    return new LocalKafka(cluster);
  }

  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  /** Creates topics with the given partitions (replication 1); status topics are compacted. */
  public void createTopics(int partitions, String... names) throws Exception {
    try (Admin admin = cluster.admin()) {
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
    createTopics(2, topics.requests(), topics.control(), topics.progress(), topics.images(), topics.status(),
        topics.deadLetters());
    createTopics(4, topics.samples());
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}

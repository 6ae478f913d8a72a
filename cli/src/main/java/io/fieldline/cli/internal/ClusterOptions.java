package io.fieldline.cli.internal;

import io.fieldline.streams.Topics;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * Where a running pipeline is: the Kafka cluster, its settings, the schema registry and the topic prefix. One
 * definition for every command that talks to a pipeline (serve, submit, cancel).
 */
public final class ClusterOptions {
  @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", required = true,
      description = "Kafka bootstrap servers, e.g. broker1:9092,broker2:9092.")
  public String bootstrap;

  @Option(names = "--registry", paramLabel = "URL", required = true,
      description = "Confluent-API schema registry URL (Confluent, Apicurio /apis/ccompat/v7, Karapace, Redpanda).")
  public String registry;

  @Option(names = "--topic-prefix", paramLabel = "PREFIX", defaultValue = "fieldline.",
      description = "Prefix of the topic names (requests, control, samples, progress, images, status, requests.dlq). "
          + "Default: ${DEFAULT-VALUE}.")
  public String prefix;

  @Option(names = "--kafka", paramLabel = "KEY=VALUE", description = "Any Kafka (Streams or client) setting, passed "
      + "unchanged (repeatable), e.g. security.protocol=SASL_SSL.")
  public Map<String, String> kafka = new LinkedHashMap<>();

  @Option(names = "--kafka-config", paramLabel = "FILE", description = "A properties file of Kafka settings (read "
      + "before --kafka, which wins).")
  public Path kafkaConfig;

  /**
   * The Kafka settings: --kafka-config's file, then --kafka, then bootstrap.servers from --bootstrap-servers.
   *
   * @throws IOException when the file cannot be read
   */
  public Properties kafkaSettings() throws IOException {
    Properties props = new Properties();
    if (kafkaConfig != null) {
      try (InputStream in = Files.newInputStream(kafkaConfig)) {
        props.load(in);
      }
    }
    props.putAll(kafka);
    props.put("bootstrap.servers", bootstrap);
    return props;
  }

  /** The pipeline's topics. */
  public Topics topics() {
    return Topics.withPrefix(prefix);
  }

  /** A client of the pipeline on this cluster, with these Kafka settings. */
  public io.fieldline.streams.client.FieldlineClient.Builder client() throws IOException {
    Map<String, Object> settings = new java.util.HashMap<>();
    kafkaSettings().forEach((k, v) -> settings.put(k.toString(), v));
    return io.fieldline.streams.client.FieldlineClient.builder().setBootstrapServers(bootstrap)
        .setRegistry(registryClient()).optTopics(topics()).optKafka(settings);
  }

  /** A client of the schema registry. */
  public SchemaRegistryClient registryClient() {
    return SchemaRegistryClient.builder().setUrl(registry).build();
  }
}

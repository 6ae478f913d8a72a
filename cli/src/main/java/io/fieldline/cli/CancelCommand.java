package io.fieldline.cli;

import io.fieldline.streams.Topics;
import io.fieldline.streams.client.FieldlineClient;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline cancel}: stop the remaining images of a request. */
@Command(name = "cancel", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Asks every serve instance to stop the unfinished images of a request: they end CANCELLED (images "
        + "already written stay). Sends one CancelRequest to the control topic, keyed by the request id; exit status "
        + "0 once the broker has it."},
    footer = {"", "Example:", "  fieldline cancel 3f6c... --bootstrap-servers broker:9092 --registry "
        + "http://registry:8081 --reason 'wrong model'"})
final class CancelCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "REQUEST_ID", description = "The request to stop.")
  String requestId;

  @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", required = true, description = "Kafka bootstrap "
      + "servers.")
  String bootstrap;

  @Option(names = "--registry", paramLabel = "URL", required = true, description = "Confluent-API schema registry.")
  String registry;

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why, shown in the request's status. Default: none.")
  String reason;

  @Option(names = "--topic-prefix", paramLabel = "PREFIX", defaultValue = "fieldline.", description = "Topic prefix. "
      + "Default: ${DEFAULT-VALUE}.")
  String prefix;

  @Option(names = "--kafka", paramLabel = "KEY=VALUE", description = "Any Kafka client setting (repeatable).")
  Map<String, String> kafka = new LinkedHashMap<>();

  @Override
  public Integer call() {
    if (requestId.isBlank()) {
      throw new Fieldline.UsageException("the request id is empty");
    }
    try (FieldlineClient client = FieldlineClient.builder().setBootstrapServers(bootstrap)
        .setRegistry(SchemaRegistryClient.builder().setUrl(registry).build()).optTopics(Topics.withPrefix(prefix))
        .optKafka(kafka).build()) {
      client.cancel(requestId, reason);
    }
    spec.commandLine().getOut().printf("cancel sent for request %s%n", requestId);
    spec.commandLine().getOut().flush();
    return 0;
  }
}

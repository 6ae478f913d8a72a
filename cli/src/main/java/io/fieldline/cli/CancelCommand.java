package io.fieldline.cli;

import io.fieldline.cli.internal.ClusterOptions;
import io.fieldline.streams.client.FieldlineClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why, shown in the request's status. Default: none.")
  String reason;

  @Mixin
  ClusterOptions cluster;

  @Override
  public Integer call() throws java.io.IOException {
    if (requestId.isBlank()) {
      throw new Fieldline.UsageException("the request id is empty");
    }
    try (FieldlineClient client = cluster.client().build()) {
      client.cancel(requestId, reason);
    }
    spec.commandLine().getOut().printf("cancel sent for request %s%n", requestId);
    spec.commandLine().getOut().flush();
    return 0;
  }
}

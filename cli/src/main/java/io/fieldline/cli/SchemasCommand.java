package io.fieldline.cli;

import io.fieldline.schemas.CancelRequest;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.streams.Topics;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.avro.Schema;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline schemas}: the topics' schemas in the form a producer registers, and registering them. */
@Command(name = "schemas", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Prints the Avro schemas of the topics clients use, self-contained (every named type defined "
        + "inline, as a producer registers them), or registers the ones clients write.",
        "  print [RECORD]   GenerationRequest, CancelRequest (written by clients), GeneratedImage, GenerationStatus "
            + "(read by clients); all of them without RECORD, one JSON document per line.",
        "  register         registers GenerationRequest under <prefix>requests-value and CancelRequest under "
            + "<prefix>control-value, and sets those subjects to BACKWARD_TRANSITIVE.",
        "Records are keyed by requestId (a string); serve rejects a request whose key differs."},
    footer = {"", "Examples:", "  fieldline schemas print GenerationRequest > request.avsc",
        "  fieldline schemas register --registry http://registry:8081"})
final class SchemasCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ACTION", description = "print or register.")
  String action;

  @Parameters(index = "1", paramLabel = "RECORD", arity = "0..1", description = "print: one record's schema.")
  String record;

  @Option(names = "--registry", paramLabel = "URL", description = "register: the Confluent-API schema registry.")
  String registry;

  @Option(names = "--topic-prefix", paramLabel = "PREFIX", defaultValue = "fieldline.", description = "register: topic "
      + "prefix of the subjects. Default: ${DEFAULT-VALUE}.")
  String prefix;

  static Map<String, Schema> clientSchemas() {
    Map<String, Schema> schemas = new LinkedHashMap<>();
    schemas.put("GenerationRequest", GenerationRequest.getClassSchema());
    schemas.put("CancelRequest", CancelRequest.getClassSchema());
    schemas.put("GeneratedImage", GeneratedImage.getClassSchema());
    schemas.put("GenerationStatus", GenerationStatus.getClassSchema());
    return schemas;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Schema> schemas = clientSchemas();
    switch (action) {
      case "print" -> {
        if (record == null) {
          schemas.values().forEach(s -> out.println(s.toString()));
        } else if (schemas.containsKey(record)) {
          out.println(org.apache.avro.SchemaFormatter.format("json/pretty", schemas.get(record)));
        } else {
          throw new Fieldline.UsageException("unknown record '" + record + "' (expected one of " + schemas.keySet()
              + ")");
        }
      }
      case "register" -> {
        if (registry == null) {
          throw new Fieldline.UsageException("register needs --registry URL");
        }
        SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry).build();
        Topics topics = Topics.withPrefix(prefix);
        for (Map.Entry<String, Schema> e : Map.of(topics.requests() + "-value", schemas.get("GenerationRequest"),
            topics.control() + "-value", schemas.get("CancelRequest")).entrySet()) {
          client.setCompatibility(e.getKey(), "BACKWARD_TRANSITIVE");
          out.printf("%s: schema id %d (BACKWARD_TRANSITIVE)%n", e.getKey(), client.register(e.getKey(), e.getValue()));
        }
      }
      default -> throw new Fieldline.UsageException("unknown action '" + action + "' (expected print or register)");
    }
    out.flush();
    return 0;
  }
}

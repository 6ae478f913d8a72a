package io.fieldline.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.local.LocalRegistry;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our serde and Apicurio's own Avro serde (in its Confluent mode: 4-byte ids in the payload, no headers) read each
 * other's bytes through one real registry.
 */
class RegistryInteropIT {
  private static LocalRegistry registry;

  @BeforeAll
  static void start() throws Exception {
    registry = LocalRegistry.start();
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
  }

  private static Map<String, Object> apicurioConfig() {
    return Map.of("apicurio.registry.url", registry.apicurioUrl(), "apicurio.registry.as-confluent", "true",
        "apicurio.registry.headers.enabled", "false", "apicurio.registry.use-id", "contentId",
        "apicurio.registry.auto-register", "true", "apicurio.registry.use-specific-avro-reader", "true");
  }

  private static GenerationRequest request(String id) {
    return GenerationRequest.newBuilder().setRequestId(id).setModel("fmnist-pfgmpp").setCount(3).setSeed(9)
        .setSampler(SamplerSpec.newBuilder().setSolver("edm").setSteps(18).build())
        .setLabels(Map.of("k", "v")).build();
  }

  @Test
  void shouldLetApicurioReadWhatWeWrite() {
    SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
    byte[] bytes = new AvroSerde<>(client, GenerationRequest.class, false).serializer()
        .serialize("interop-a", request("ours"));
    try (AvroKafkaDeserializer<GenerationRequest> theirs = new AvroKafkaDeserializer<>()) {
      theirs.configure(apicurioConfig(), false);
      assertEquals(request("ours"), theirs.deserialize("interop-a", bytes));
    }
  }

  @Test
  void shouldReadWhatApicurioWrites() {
    byte[] bytes;
    try (AvroKafkaSerializer<GenerationRequest> theirs = new AvroKafkaSerializer<>()) {
      theirs.configure(apicurioConfig(), false);
      bytes = theirs.serialize("interop-b", request("theirs"));
    }
    SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.confluentUrl()).build();
    assertEquals(0, bytes[0], "Confluent wire format");
    assertEquals(request("theirs"),
        new AvroSerde<>(client, GenerationRequest.class, false).deserializer().deserialize("interop-b", bytes));
  }
}

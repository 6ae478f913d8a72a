package io.fieldline.streams.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Unit tests of the serde and client against an in-process stand-in; it-tests use a real registry. */
class AvroSerdeTest {
  private FakeRegistry registry;
  private SchemaRegistryClient client;
  private AvroSerde<GenerationRequest> serde;

  @BeforeEach
  void setUp() throws Exception {
    registry = new FakeRegistry();
    client = SchemaRegistryClient.builder().setUrl(registry.url()).optBackoff(Duration.ofMillis(1)).build();
    serde = new AvroSerde<>(client, GenerationRequest.class, false);
  }

  @AfterEach
  void tearDown() {
    registry.close();
  }

  private static GenerationRequest request() {
    return GenerationRequest.newBuilder().setRequestId("r-1").setModel("fmnist-pfgmpp").setCount(16).setSeed(42)
        .setSampler(SamplerSpec.newBuilder().setSolver("edm").setSteps(18).build()).setPriority(3)
        .setLabels(Map.of("team", "augment")).build();
  }

  @Test
  void shouldWriteTheConfluentWireFormatAndReadItBack() {
    byte[] bytes = serde.serializer().serialize("fieldline.requests", request());
    assertEquals(0, bytes[0]);
    int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
    assertEquals(GenerationRequest.getClassSchema(), client.byId(id));
    assertEquals(request(), serde.deserializer().deserialize("fieldline.requests", bytes));
    int callsBefore = registry.calls.get();
    serde.serializer().serialize("fieldline.requests", request());
    assertEquals(callsBefore, registry.calls.get(), "registrations are cached");
  }

  @Test
  void shouldReadANewerWriterSchemaWithAnAddedOptionalField() throws Exception {
    // A client upgraded to a newer request schema with an optional "tenant" field (BACKWARD_TRANSITIVE evolution).
    String newer = GenerationRequest.getClassSchema().toString().replace("{\"name\":\"labels\"",
        "{\"name\":\"tenant\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"labels\"");
    Schema newSchema = new Schema.Parser().parse(newer);
    client.register("fieldline.requests-value", GenerationRequest.getClassSchema());
    assertTrue(client.isCompatible("fieldline.requests-value", newSchema));
    int id = client.register("fieldline.requests-value", newSchema);
    GenericRecord record = new GenericData.Record(newSchema);
    for (Schema.Field f : GenerationRequest.getClassSchema().getFields()) {
      record.put(f.name(), GenericData.get().deepCopy(f.schema(), request().get(f.name())));
    }
    record.put("tenant", "acme");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(newSchema).write(record, encoder);
    encoder.flush();
    GenerationRequest read = serde.deserializer().deserialize("fieldline.requests", out.toByteArray());
    assertEquals(request(), read);
  }

  @Test
  void shouldRefuseAnIncompatibleSchema() {
    client.register("fieldline.requests-value", GenerationRequest.getClassSchema());
    String broken = GenerationRequest.getClassSchema().toString().replace("{\"name\":\"labels\"",
        "{\"name\":\"tenant\",\"type\":\"string\"},{\"name\":\"labels\"");
    Schema newSchema = new Schema.Parser().parse(broken);
    assertFalse(client.isCompatible("fieldline.requests-value", newSchema));
    RegistryException e = assertThrows(RegistryException.class,
        () -> client.register("fieldline.requests-value", newSchema));
    assertEquals(409, e.status());
    assertTrue(e.getMessage().contains("incompatible"), e.getMessage());
  }

  @Test
  void shouldExplainUndecodableBytes() {
    byte[] good = serde.serializer().serialize("t", request());
    assertTrue(message(new byte[] {1, 0, 0, 0, 1, 2}).contains("magic byte 0x01"));
    assertTrue(message(new byte[] {0, 0}).contains("only 2 bytes"));
    byte[] unknownId = good.clone();
    unknownId[4] = 99;
    assertTrue(message(unknownId).contains("unknown schema id"), message(unknownId));
    byte[] truncated = Arrays.copyOf(good, good.length - 3);
    assertTrue(message(truncated).contains("corrupt") || message(truncated).contains("cannot be read"),
        message(truncated));
    byte[] trailing = Arrays.copyOf(good, good.length + 2);
    assertTrue(message(trailing).contains("trailing"), message(trailing));
  }

  private String message(byte[] bytes) {
    return assertThrows(SerializationException.class, () -> serde.deserializer().deserialize("t", bytes))
        .getMessage();
  }

  @Test
  void shouldRegisterAfterLosingARaceToCreateTheSubject() {
    registry.creationRacesToInject.set(2); // another instance is creating the subject
    assertEquals(1, client.register("raced-value", GenerationRequest.getClassSchema()));
    assertEquals(0, registry.creationRacesToInject.get(), "retried past both conflicts");
  }

  @Test
  void shouldRetryTransientFailuresButNotClientErrors() {
    registry.failuresToInject.set(2);
    assertEquals(1, client.register("s-value", GenerationRequest.getClassSchema()));
    registry.failuresToInject.set(10);
    RegistryException e = assertThrows(RegistryException.class, () -> client.byId(1 + 100));
    assertEquals(503, e.status());
    registry.failuresToInject.set(0);
    RegistryException notFound = assertThrows(RegistryException.class, () -> client.byId(77));
    assertTrue(notFound.isNotFound());
    assertEquals(40403, notFound.errorCode());
    RegistryException unreachable = assertThrows(RegistryException.class, () -> SchemaRegistryClient.builder()
        .setUrl("http://127.0.0.1:1").optMaxAttempts(1).build().byId(1));
    assertTrue(unreachable.getMessage().contains("unreachable"), unreachable.getMessage());
    assertTrue(unreachable.isTransient() && e.isTransient() && !notFound.isTransient());
  }

  @Test
  void shouldTellARegistryOutageFromAnUnknownSchemaId() throws Exception {
    byte[] bytes = serde.serializer().serialize("t", GenerationRequest.newBuilder().setRequestId("r").setModel("m")
        .setCount(1).setSeed(1).build());
    SchemaRegistryClient fresh = SchemaRegistryClient.builder().setUrl(registry.url()).optMaxAttempts(1).build();
    AvroSerde<GenerationRequest> reader = new AvroSerde<>(fresh, GenerationRequest.class, false);
    registry.failNext(5);
    // An outage is not the record's fault: a retriable exception, not a SerializationException to dead-letter.
    RegistryUnavailableException outage = assertThrows(RegistryUnavailableException.class,
        () -> reader.deserializer().deserialize("t", bytes));
    assertTrue(outage.getMessage().contains("503"), outage.getMessage());
    registry.failNext(0);
    assertEquals("r", reader.deserializer().deserialize("t", bytes).getRequestId());
    byte[] unknownId = bytes.clone();
    unknownId[4] = 99;
    assertThrows(SerializationException.class, () -> reader.deserializer().deserialize("t", unknownId));
  }
}

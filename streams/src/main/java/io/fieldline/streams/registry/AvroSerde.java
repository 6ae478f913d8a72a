package io.fieldline.streams.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka serde for Avro SpecificRecords in the Confluent wire format: magic byte 0, the writer schema's 4-byte
 * big-endian registry id, then the Avro binary encoding. Readers resolve the writer schema (fetched by id, cached)
 * against their own, so a producer on a newer compatible schema is read by an older application and vice versa.
 *
 * <p>Subjects follow the topic-name strategy: {@code <topic>-value} (or {@code -key}). The serializer registers its
 * schema (idempotent; cached after the first call), so the registry's compatibility rule guards every producer.
 *
 * <p>Errors about the bytes are {@link SerializationException}s with a reason a dead-letter header can carry: not the
 * wire format (wrong magic byte or too short), unknown schema id (404 from a live registry), schema not readable as
 * this record, or corrupt Avro data. A registry that cannot be reached or fails (timeouts, 5xx, 429) throws
 * {@link RegistryUnavailableException} instead: an infrastructure fault, after which the record must be retried.
 *
 * @param <T> the record class
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
  /** The Confluent wire format's magic byte. */
  public static final byte MAGIC = 0;

  private final SchemaRegistryClient registry;
  private final Schema readerSchema;
  private final boolean isKey;

  /**
   * @param registry the registry client
   * @param type the generated record class (its schema is the reader schema, and the writer schema when producing)
   * @param isKey whether this serde handles keys (subject suffix -key) or values (-value)
   */
  public AvroSerde(SchemaRegistryClient registry, Class<T> type, boolean isKey) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.readerSchema = SpecificData.get().getSchema(type);
    this.isKey = isKey;
  }

  /** The subject a topic's records are registered under. */
  public String subject(String topic) {
    return topic + (isKey ? "-key" : "-value");
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, data) -> {
      if (data == null) {
        return null;
      }
      int id = registry.register(subject(topic), data.getSchema());
      ByteArrayOutputStream out = new ByteArrayOutputStream(128);
      out.write(MAGIC);
      out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      try {
        new SpecificDatumWriter<T>(data.getSchema()).write(data, encoder);
        encoder.flush();
      } catch (IOException | RuntimeException e) {
        throw new SerializationException("cannot encode " + data.getSchema().getFullName() + " for " + topic + ": "
            + e.getMessage(), e);
      }
      return out.toByteArray();
    };
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      if (bytes.length < 5 || bytes[0] != MAGIC) {
        throw new SerializationException("not the Confluent Avro wire format: "
            + (bytes.length < 5 ? "only " + bytes.length + " bytes" : String.format("magic byte 0x%02x, expected 0x00",
            bytes[0])));
      }
      int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
      Schema writer;
      try {
        writer = registry.byId(id);
      } catch (RegistryException e) {
        if (e.isTransient()) { // the record may be fine: the registry is not answering
          throw new RegistryUnavailableException("cannot fetch schema id " + id + " now (" + e.getMessage() + ")", e);
        }
        throw new SerializationException((e.isNotFound() ? "unknown schema id " + id : "cannot fetch schema id " + id)
            + " (" + e.getMessage() + ")", e);
      }
      try {
        SpecificDatumReader<T> reader = new SpecificDatumReader<>(writer, readerSchema);
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null);
        T value = reader.read(null, decoder);
        if (!decoder.isEnd()) {
          throw new SerializationException("trailing bytes after the " + writer.getFullName() + " record");
        }
        return value;
      } catch (AvroRuntimeException e) {
        throw new SerializationException("schema id " + id + " (" + writer.getFullName() + ") cannot be read as "
            + readerSchema.getFullName() + ": " + e.getMessage(), e);
      } catch (IOException | RuntimeException e) {
        if (e instanceof SerializationException s) {
          throw s;
        }
        throw new SerializationException("corrupt Avro data for schema id " + id + ": " + e, e);
      }
    };
  }
}

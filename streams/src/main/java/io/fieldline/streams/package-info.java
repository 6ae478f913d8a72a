/**
 * The Kafka Streams generation pipeline (issue #4). Ready so far: {@link io.fieldline.streams.registry}, the
 * Confluent-API schema-registry client and the Avro serde in the Confluent wire format.
 */
package io.fieldline.streams;

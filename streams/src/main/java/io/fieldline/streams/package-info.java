/**
 * The Kafka Streams generation pipeline: validation, fan-out, device-pinned generator processors, status, dead letters, metrics, and the Confluent-API schema-registry client and serde. Arrives with issue #4.
 */
package io.fieldline.streams;

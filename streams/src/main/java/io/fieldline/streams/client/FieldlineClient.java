package io.fieldline.streams.client;

import io.fieldline.schemas.CancelRequest;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.streams.Topics;
import io.fieldline.streams.registry.AvroSerde;
import io.fieldline.streams.registry.SchemaRegistryClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A Java client of a running Fieldline pipeline: submit a request, follow its status and read its images, cancel it.
 * The producer and consumer set-up lives here once: records keyed by request id (the pipeline rejects another key),
 * values in the Confluent Avro wire format under the {@code <topic>-value} subjects (the client registers the request
 * and cancel schemas it writes), images and statuses read with {@code isolation.level=read_committed}, so each image
 * of a request arrives exactly once.
 *
 * <p>Thread safety: one thread at a time. Failures: a request the broker does not acknowledge throws
 * {@link IllegalStateException} with the broker's reason; a request the pipeline rejects ends with state REJECTED and
 * its reason in {@link Outcome#last()}.
 */
public final class FieldlineClient implements AutoCloseable {
  /** What to do with each image of a followed request (its record and its PNG bytes). */
  public interface ImageSink {
    void accept(GeneratedImage image, byte[] png) throws IOException;
  }

  /**
   * How a request ended, as a client saw it.
   *
   * @param last the last status (null if none arrived before the timeout)
   * @param images images received
   * @param nfe their field evaluations in all
   * @param firstImageNanos {@code System.nanoTime()} of the first image, or -1
   */
  public record Outcome(GenerationStatus last, int images, long nfe, long firstImageNanos) {
    /** True when the request ended DONE. */
    public boolean done() {
      return last != null && last.getState() == RequestState.DONE;
    }
  }

  private final Map<String, Object> kafka;
  private final SchemaRegistryClient registry;
  private final Topics topics;
  private KafkaProducer<String, GenerationRequest> requests;
  private KafkaProducer<String, CancelRequest> cancels;
  private final Duration registryWait;
  private final java.util.function.Consumer<String> waiting;

  private FieldlineClient(Builder b) {
    this.registryWait = b.registryWait;
    this.waiting = b.waiting;
    this.kafka = new HashMap<>(b.kafka);
    this.kafka.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrap);
    this.registry = b.registry;
    this.topics = b.topics;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A fresh request id (a random UUID). */
  public static String newRequestId() {
    return UUID.randomUUID().toString();
  }

  /**
   * Sends a request (keyed by its id) and waits for the broker's acknowledgement.
   *
   * @return its request id
   */
  public String submit(GenerationRequest request) {
    if (requests == null) {
      requests = new KafkaProducer<>(kafka, new StringSerializer(),
          new AvroSerde<>(registry, GenerationRequest.class, false).serializer());
    }
    send(requests, topics.requests(), request.getRequestId(), request);
    return request.getRequestId();
  }

  /**
   * Sends many requests (each keyed by its id) without waiting for each acknowledgement, then waits for all of them:
   * for bulk feeds, where {@link #submit} per request would pay a broker round trip each.
   *
   * @return their request ids, in order
   * @throws IllegalStateException naming the first request the broker did not take
   */
  public List<String> submitAll(java.util.Collection<GenerationRequest> batch) {
    if (batch.isEmpty()) {
      return List.of();
    }
    java.util.Iterator<GenerationRequest> it = batch.iterator();
    GenerationRequest first = it.next();
    submit(first); // creates the producer and registers the schema, waiting out a registry outage like submit
    List<String> ids = new java.util.ArrayList<>(List.of(first.getRequestId().toString()));
    List<java.util.concurrent.Future<?>> acks = new java.util.ArrayList<>();
    while (it.hasNext()) {
      GenerationRequest r = it.next();
      ids.add(r.getRequestId().toString());
      acks.add(requests.send(new ProducerRecord<>(topics.requests(), r.getRequestId().toString(), r)));
    }
    requests.flush();
    for (int i = 0; i < acks.size(); i++) {
      try {
        acks.get(i).get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("the broker did not take request " + ids.get(i + 1) + ": "
            + e.getCause().getMessage(), e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while sending requests", e);
      }
    }
    return ids;
  }

  /** Asks every instance to stop the remaining images of a request (they end CANCELLED). */
  public void cancel(String requestId, String reason) {
    if (cancels == null) {
      cancels = new KafkaProducer<>(kafka, new StringSerializer(),
          new AvroSerde<>(registry, CancelRequest.class, false).serializer());
    }
    send(cancels, topics.control(), requestId, CancelRequest.newBuilder().setRequestId(requestId).setReason(reason)
        .build());
  }

  private <T> void send(KafkaProducer<String, T> producer, String topic, String key, T value) {
    try {
      // The serializer registers the schema first: a registry that is down is waited for, up to the wait.
      registry.waitingOutOutages(() -> producer.send(new ProducerRecord<>(topic, key, value)).get(), registryWait,
          waiting);
    } catch (RuntimeException e) {
      throw e;
    } catch (ExecutionException e) {
      throw new IllegalStateException("the broker did not take the record for " + topic + ": "
          + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while sending to " + topic, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot send to " + topic + ": " + e.getMessage(), e);
    }
  }

  /**
   * Submits a request and follows it to its end: joins the images and status topics first (so nothing written after
   * the send is missed), then sends, then reads until the status is final and every image it counts has arrived, or
   * until {@code timeout}, or until {@code keepGoing} says stop.
   */
  public Outcome submitAndFollow(GenerationRequest request, Duration timeout, BooleanSupplier keepGoing,
      ImageSink sink) {
    try (Followers f = new Followers(true, timeout, keepGoing)) { // at the end of both topics before sending
      submit(request);
      return f.follow(request.getRequestId(), timeout, keepGoing, sink);
    }
  }

  /** Follows a request submitted earlier (by anyone): its images and status from the start of the topics. */
  public Outcome follow(String requestId, Duration timeout, ImageSink sink) {
    return follow(requestId, timeout, () -> true, sink);
  }

  /** Like {@link #follow(String, Duration, ImageSink)}, stopping early when {@code keepGoing} turns false. */
  public Outcome follow(String requestId, Duration timeout, BooleanSupplier keepGoing, ImageSink sink) {
    try (Followers f = new Followers(false, timeout, keepGoing)) {
      return f.follow(requestId, timeout, keepGoing, sink);
    }
  }

  /**
   * Opens a reader of the images of many requests: it joins the images topic at its end before returning, so it sees
   * every image of each request submitted after it was opened (read_committed, each image once), whoever submits
   * them. For feeds and load tests that keep many requests in flight; close it when done.
   *
   * @throws IllegalStateException if it cannot join the images topic within {@code timeout}
   */
  public ImageReader openImageReader(Duration timeout) {
    return new ImageReader(timeout);
  }

  /** The images of many requests, read from the moment it was opened (see {@link #openImageReader}). */
  public final class ImageReader implements AutoCloseable {
    private final KafkaConsumer<String, GeneratedImage> images;

    private ImageReader(Duration timeout) {
      images = reader(GeneratedImage.class);
      try {
        join(images, topics.images(), true, System.nanoTime() + timeout.toNanos(), () -> true);
      } catch (RuntimeException e) {
        images.close();
        throw e;
      }
    }

    /**
     * Reads until each request of {@code expected} has its count of images, or {@code timeout} passes; images of
     * other requests are skipped. {@code sink} sees every image of the expected requests as it arrives.
     *
     * @return images received per request (a request with none is absent)
     */
    public Map<String, Integer> await(Map<String, Integer> expected, Duration timeout, ImageSink sink) {
      Map<String, Integer> got = new HashMap<>();
      int missing = expected.values().stream().mapToInt(Integer::intValue).sum();
      long deadline = System.nanoTime() + timeout.toNanos();
      while (missing > 0 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, GeneratedImage> r : images.poll(Duration.ofMillis(20))) {
          if (!expected.containsKey(r.key())) {
            continue;
          }
          got.merge(r.key(), 1, Integer::sum);
          missing--;
          byte[] png = new byte[r.value().getPng().remaining()];
          r.value().getPng().get(png);
          try {
            sink.accept(r.value(), png);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }
      return got;
    }

    @Override
    public void close() {
      images.close();
    }
  }

  /**
   * A read_committed consumer outside any consumer group, committing nothing. Why no group: a group member that loses
   * its membership (the broker restarts and the member outlives its session) is handed its partitions again at the
   * group's committed offsets and reads what it already read a second time. A reader that follows one request keeps
   * its positions in memory and has nothing to share, so it assigns itself the partitions.
   */
  private <T extends org.apache.avro.specific.SpecificRecord> KafkaConsumer<String, T> reader(Class<T> type) {
    Map<String, Object> config = new HashMap<>(kafka);
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(config, new StringDeserializer(), new AvroSerde<>(registry, type, false).deserializer());
  }

  /**
   * Assigns {@code consumer} every partition of {@code topic} and fixes its position now, at the end (the last stable
   * offset: nothing written after this returns is skipped) or at the start of each partition.
   *
   * @throws IllegalStateException if the topic has no partitions by {@code joinBy} (absent, or the broker unreachable)
   */
  private static void join(KafkaConsumer<?, ?> consumer, String topic, boolean atEnd, long joinBy,
      BooleanSupplier keepGoing) {
    List<TopicPartition> partitions = List.of();
    while (partitions.isEmpty()) {
      try {
        partitions = consumer.partitionsFor(topic, Duration.ofSeconds(1)).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        partitions = List.of(); // the broker is not answering yet: ask again until joinBy
      }
      if (partitions.isEmpty() && (System.nanoTime() > joinBy || !keepGoing.getAsBoolean())) {
        throw new IllegalStateException("could not join the topic " + topic
            + " in time: is the broker reachable and does the topic exist?");
      }
    }
    consumer.assign(partitions);
    if (atEnd) {
      consumer.seekToEnd(partitions);
    } else {
      consumer.seekToBeginning(partitions);
    }
    partitions.forEach(consumer::position); // a seek is lazy: resolve it before anything is sent
  }

  /** An image consumer and a status consumer of one follow. */
  private final class Followers implements AutoCloseable {
    final KafkaConsumer<String, GeneratedImage> images;
    final KafkaConsumer<String, GenerationStatus> statuses;

    Followers(boolean atEnd, Duration timeout, BooleanSupplier keepGoing) {
      images = reader(GeneratedImage.class);
      statuses = reader(GenerationStatus.class);
      try {
        long joinBy = System.nanoTime() + timeout.toNanos();
        join(images, topics.images(), atEnd, joinBy, keepGoing);
        join(statuses, topics.status(), atEnd, joinBy, keepGoing);
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }

    Outcome follow(String id, Duration timeout, BooleanSupplier keepGoing, ImageSink sink) {
      GenerationStatus last = null;
      int received = 0;
      long nfe = 0;
      long first = -1;
      long end = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < end && keepGoing.getAsBoolean()) {
        for (ConsumerRecord<String, GeneratedImage> r : images.poll(Duration.ofMillis(100))) {
          if (!id.equals(r.key())) {
            continue;
          }
          byte[] png = new byte[r.value().getPng().remaining()];
          r.value().getPng().get(png);
          received++;
          nfe += r.value().getNfe();
          if (first < 0) {
            first = System.nanoTime();
          }
          try {
            sink.accept(r.value(), png);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        for (ConsumerRecord<String, GenerationStatus> r : statuses.poll(Duration.ofMillis(10))) {
          if (id.equals(r.key())) {
            last = r.value();
          }
        }
        if (last != null && last.getState() != RequestState.ACCEPTED && last.getState() != RequestState.RUNNING
            && received >= last.getDone()) {
          break;
        }
      }
      return new Outcome(last, received, nfe, first);
    }

    @Override
    public void close() {
      images.close();
      statuses.close();
    }
  }

  @Override
  public void close() {
    if (requests != null) {
      requests.close();
    }
    if (cancels != null) {
      cancels.close();
    }
  }

  /** Builder: {@code setX} required, {@code optX} optional. */
  public static final class Builder {
    private String bootstrap;
    private SchemaRegistryClient registry;
    private Topics topics = Topics.defaults();
    private final Map<String, Object> kafka = new HashMap<>();
    private Duration registryWait = Duration.ZERO;
    private java.util.function.Consumer<String> waiting = message -> { };

    private Builder() {}

    /** The Kafka bootstrap servers. Required. */
    public Builder setBootstrapServers(String bootstrapServers) {
      this.bootstrap = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** The schema registry. Required. */
    public Builder setRegistry(SchemaRegistryClient registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The pipeline's topics. Default {@link Topics#defaults()}. */
    public Builder optTopics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /**
     * How long {@link #submit} and {@link #cancel} wait for a schema registry that is unreachable or failing (its
     * transient errors), telling {@code waiting} each time what they wait for. Default: no wait (the error at once).
     */
    public Builder optRegistryWait(Duration maxWait, java.util.function.Consumer<String> onWaiting) {
      this.registryWait = Objects.requireNonNull(maxWait, "maxWait");
      this.waiting = Objects.requireNonNull(onWaiting, "onWaiting");
      return this;
    }

    /** Kafka client settings for the producers and consumers (security, timeouts, ...). Default none. */
    public Builder optKafka(Map<String, ?> settings) {
      kafka.putAll(settings);
      return this;
    }

    public FieldlineClient build() {
      if (bootstrap == null || registry == null) {
        throw new IllegalStateException("FieldlineClient needs setBootstrapServers and setRegistry");
      }
      return new FieldlineClient(this);
    }
  }
}

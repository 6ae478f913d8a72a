package io.fieldline.cli.internal;

import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Follows one request on the images and status topics until its status is final (DONE, FAILED, REJECTED, EXPIRED,
 * CANCELLED) and every image its status counts as done has arrived, or until the timeout.
 */
public final class RequestFollower {
  /** What to do with each image of the request. */
  public interface ImageSink {
    void accept(GeneratedImage image, byte[] png) throws IOException;
  }

  /**
   * The end of a request as seen by a client.
   *
   * @param last the last status (null if none arrived)
   * @param images images received
   * @param nfe their field evaluations in all
   * @param firstImageNanos System.nanoTime() of the first image, or -1
   */
  public record Outcome(GenerationStatus last, int images, long nfe, long firstImageNanos) {
    public boolean done() {
      return last != null && last.getState() == RequestState.DONE;
    }
  }

  private RequestFollower() {}

  public static Outcome follow(KafkaConsumer<String, GeneratedImage> images,
      KafkaConsumer<String, GenerationStatus> statuses, String id, Duration timeout, BooleanSupplier keepGoing,
      ImageSink sink) {
    GenerationStatus last = null;
    int received = 0;
    long nfe = 0;
    long first = -1;
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end && keepGoing.getAsBoolean()) {
      for (ConsumerRecord<String, GeneratedImage> r : images.poll(Duration.ofMillis(100))) {
        if (!r.key().equals(id)) {
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
        if (r.key().equals(id)) {
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
}

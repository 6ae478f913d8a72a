package io.fieldline.streams.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.engine.FakeClock;
import io.fieldline.streams.registry.RegistryException;
import io.fieldline.streams.registry.RegistryUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

/** Riding out a registry outage: back-off while a record waits, thread replacement until the wait runs out. */
class RegistryOutageTest {
  private final FakeClock clock = new FakeClock();
  private final List<Duration> sleeps = new ArrayList<>();
  private final RegistryOutage outage = new RegistryOutage(clock, d -> {
    sleeps.add(d);
    clock.advance(d);
  }, Duration.ofSeconds(30), Duration.ofMinutes(10));

  private static RegistryUnavailableException down() {
    return new RegistryUnavailableException("cannot fetch schema id 7 now", new RegistryException("unreachable", -1,
        -1, null));
  }

  @Test
  void shouldRetryWithCappedBackOffUntilTheRegistryAnswers() {
    int[] calls = {0};
    String value = outage.call(() -> {
      if (++calls[0] < 8) {
        throw down();
      }
      return "decoded";
    });
    assertEquals("decoded", value);
    assertEquals(List.of(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L),
        sleeps.stream().map(Duration::toMillis).toList(), "doubling from 100 ms, capped at 5 s");
    assertEquals(7, outage.retries());
    assertEquals(0, outage.waiting());
  }

  @Test
  void shouldHandTheRecordBackAfterTheBlockAndReplaceThreadsUntilTheWaitRunsOut() {
    RegistryUnavailableException e = assertThrows(RegistryUnavailableException.class, () -> outage.call(() -> {
      throw down();
    }));
    Duration slept = sleeps.stream().reduce(Duration.ZERO, Duration::plus);
    assertTrue(slept.compareTo(Duration.ofSeconds(30)) >= 0 && slept.compareTo(Duration.ofSeconds(36)) < 0,
        "blocked about 30 s: " + slept);
    StreamsException wrapped = new StreamsException("task failed", e);
    assertTrue(outage.shouldRetry(wrapped), "within the wait: replace the thread and read the record again");
    clock.advance(Duration.ofMinutes(10));
    assertFalse(outage.shouldRetry(wrapped), "after 10 minutes in a row: stop loudly");
    assertFalse(new RegistryOutage(clock, d -> { }, Duration.ZERO, Duration.ofMinutes(10))
        .shouldRetry(new IllegalStateException("a bug")), "anything else stops as before");
  }

  @Test
  void shouldLetAGlobalStoreDeserializerWaitTheWholeOutageButNotForABadRecord() {
    int[] calls = {0};
    org.apache.kafka.common.serialization.Deserializer<String> patient = outage.patient((topic, data) -> {
      if (++calls[0] < 20) {
        throw down(); // about 80 s of outage: past the 30 s a stream thread blocks, within the 10 minutes
      }
      return topic + ":" + new String(data, java.nio.charset.StandardCharsets.UTF_8);
    });
    assertEquals("control:cancel", patient.deserialize("control", "cancel".getBytes(
        java.nio.charset.StandardCharsets.UTF_8)));
    Duration slept = sleeps.stream().reduce(Duration.ZERO, Duration::plus);
    assertTrue(slept.compareTo(Duration.ofSeconds(30)) > 0, "waited past the per-record block: " + slept);

    sleeps.clear();
    org.apache.kafka.common.serialization.Deserializer<String> neverBack = outage.patient((topic, data) -> {
      throw down();
    });
    assertThrows(RegistryUnavailableException.class, () -> neverBack.deserialize("control", new byte[1]));
    slept = sleeps.stream().reduce(Duration.ZERO, Duration::plus);
    assertTrue(slept.compareTo(Duration.ofMinutes(10)) >= 0 && slept.compareTo(Duration.ofMinutes(10).plusSeconds(6))
        < 0, "gave up after the whole wait, loudly: " + slept);

    sleeps.clear();
    org.apache.kafka.common.serialization.Deserializer<String> bad = outage.patient((topic, data) -> {
      throw new IllegalArgumentException("not Avro");
    });
    assertThrows(IllegalArgumentException.class, () -> bad.deserialize("control", new byte[1]));
    assertTrue(sleeps.isEmpty(), "a bad record is not retried");
  }

  @Test
  void shouldStopWaitingOnceThePipelineIsShuttingDown() {
    int[] calls = {0};
    org.apache.kafka.common.serialization.Deserializer<String> patient = outage.patient((topic, data) -> {
      if (++calls[0] == 3) {
        outage.stop(); // SIGTERM arrives while the global thread waits
      }
      throw down();
    });
    assertThrows(RegistryUnavailableException.class, () -> patient.deserialize("control", new byte[1]));
    assertEquals(3, calls[0], "gave up at the retry after the stop, not after the whole wait");
  }
}

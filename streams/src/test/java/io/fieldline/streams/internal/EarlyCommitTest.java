package io.fieldline.streams.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.junit.jupiter.api.Test;

class EarlyCommitTest {
  private final MockProcessorContext<String, Object> context = new MockProcessorContext<>();
  private final EarlyCommit early = new EarlyCommit();

  @Test
  void shouldAskForOneCommitPerGapWhateverHowOftenItIsAsked() {
    Instant t = Instant.parse("2026-12-08T00:00:00Z");
    early.request(context, t);
    assertTrue(context.committed(), "the first request commits");
    context.resetCommit();
    early.request(context, t.plusMillis(1));
    early.request(context, t.plus(EarlyCommit.MIN_GAP).minusMillis(1));
    assertFalse(context.committed(), "a burst within the gap asks for nothing more");
    early.request(context, t.plus(EarlyCommit.MIN_GAP));
    assertTrue(context.committed(), "a full gap later it commits again");
  }
}

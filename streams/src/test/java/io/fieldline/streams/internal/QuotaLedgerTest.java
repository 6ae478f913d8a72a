package io.fieldline.streams.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fieldline.core.engine.FakeClock;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.RequestState;
import io.fieldline.streams.PipelineLimits;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class QuotaLedgerTest {
  private final FakeClock clock = new FakeClock();
  private final QuotaLedger ledger = new QuotaLedger(clock, Duration.ofMinutes(2));
  private final PipelineLimits limits = PipelineLimits.defaults().withQueueBounds(100, 150);

  private static GenerationStatus status(String id, String client, RequestState state, int done, int total,
      int failed) {
    return GenerationStatus.newBuilder().setRequestId(id).setClientId(client).setState(state).setDone(done)
        .setTotal(total).setFailed(failed).setUpdatedAtEpochMs(0).build();
  }

  @Test
  void shouldCountEachRequestOnceWhicheverWayItsStatusArrives() {
    assertNull(ledger.admit("r1", "alice", 60, limits));
    assertNull(ledger.admit("r1", "alice", 60, limits), "validated again after an aborted transaction");
    assertEquals(60, ledger.unfinished("alice"));
    ledger.observe(status("r1", "alice", RequestState.ACCEPTED, 0, 60, 0));
    ledger.observe(status("r1", "alice", RequestState.ACCEPTED, 0, 60, 0)); // restored and reprocessed
    assertEquals(60, ledger.unfinished("alice"));
    ledger.observe(status("r1", "alice", RequestState.RUNNING, 20, 60, 5));
    assertEquals(35, ledger.unfinished("alice"));
    assertEquals(35, ledger.unfinished());
    ledger.observe(status("r1", "alice", RequestState.EXPIRED, 20, 60, 40));
    assertEquals(0, ledger.unfinished());
  }

  @Test
  void shouldSeeOtherInstancesRequestsAndBoundEachClientAndTheWhole() {
    ledger.observe(status("elsewhere", "alice", RequestState.RUNNING, 10, 90, 0)); // another instance's request
    assertNotNull(ledger.admit("r2", "alice", 21, limits));
    assertNull(ledger.admit("r2", "alice", 20, limits));
    assertNull(ledger.admit("r3", null, 40, limits));
    assertEquals(40, ledger.unfinished(null));
    String reason = ledger.admit("r4", "bob", 11, limits);
    assertEquals("the pipeline has 140 unfinished images; 11 more would exceed its limit of 150 (try again later)",
        reason);
  }

  @Test
  void shouldDropOwnAcceptancesWhoseStatusNeverArrives() {
    assertNull(ledger.admit("lost", "alice", 100, limits));
    assertNotNull(ledger.admit("next", "alice", 1, limits));
    clock.advance(Duration.ofMinutes(3)); // its transaction aborted; another instance took the request
    assertNull(ledger.admit("next", "alice", 1, limits));
    assertEquals(1, ledger.unfinished("alice"));
  }
}

package io.fieldline.streams;

import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The kinds of bad input the pipeline must reject with a reason, shared by the topology test and the integration
 * test on a real broker. Limits assumed: {@code new PipelineLimits(100, 32, 4, 16, 10)}; valid model name "tiny" (a
 * PFGM exact field), no version 9.
 */
public final class BadRequests {
  /** A raw record: key and value bytes, and the request id its status is keyed by. */
  public record Case(String name, String statusKey, byte[] key, byte[] value) {}

  private BadRequests() {}

  /** The pipeline's limits these cases are written for. */
  public static PipelineLimits limits() {
    return new PipelineLimits(100, 32, 4, 16, 10);
  }

  public static GenerationRequest.Builder good(String id, int count) {
    return GenerationRequest.newBuilder().setRequestId(id).setModel("tiny").setCount(count).setSeed(7)
        .setSampler(SamplerSpec.newBuilder().setSolver("heun").setSteps(6).build());
  }

  /**
   * Every case, serialized with {@code serialize} for the requests topic. Ids of decodable requests are their status
   * keys; undecodable ones use the record key.
   */
  public static List<Case> all(java.util.function.Function<GenerationRequest, byte[]> serialize, Instant now) {
    String longText = "x".repeat(40);
    List<GenerationRequest> requests = List.of(
        good("c1", 0).build(),
        good("c2", -5).build(),
        good("c3", 1000).build(),
        good("m1", 1).setModel("nope").build(),
        good("m2", 1).setModel("../../etc/passwd").build(),
        good("m3", 1).setModelVersion("9").build(),
        good("s1", 1).setSampler(SamplerSpec.newBuilder().setSolver("sideways").build()).build(),
        good("s2", 1).setSampler(SamplerSpec.newBuilder().setSolver("euler").setSteps(0).build()).build(),
        good("s3", 1).setSampler(SamplerSpec.newBuilder().setSolver("euler").setSteps(20_000).build()).build(),
        good("s4", 1).setSampler(SamplerSpec.newBuilder().setSolver("rk45").setRtol(Double.NaN).build()).build(),
        good("s5", 1).setSampler(SamplerSpec.newBuilder().setSolver("rk45").setRtol(-1.0).build()).build(),
        good("s6", 1).setSampler(SamplerSpec.newBuilder().setSolver("rk45").setAtol(5.0).build()).build(),
        good("s7", 1).setSampler(SamplerSpec.newBuilder().setSolver("edm").build()).build(),
        good("p1", 1).setPriority(11).build(),
        good("d1", 1).setDeadlineEpochMs(now.minusSeconds(1).toEpochMilli()).build(),
        good("l1", 1).setLabels(Map.of("a", "1", "b", "2", "c", "3", "d", "4", "e", "5")).build(),
        good("l2", 1).setLabels(Map.of("k", longText)).build(),
        good("i1", 1).setClientId(longText).build());
    List<Case> cases = new ArrayList<>();
    for (GenerationRequest r : requests) {
      cases.add(new Case(r.getRequestId(), r.getRequestId(), bytes(r.getRequestId()), serialize.apply(r)));
    }
    cases.add(new Case("empty id", "e1", bytes("e1"), serialize.apply(good("", 1).build())));
    cases.add(new Case("id too long", longText, bytes("e2"), serialize.apply(good(longText, 1).build())));
    cases.add(new Case("key differs from id", "k1", bytes("other-key"), serialize.apply(good("k1", 1).build())));
    cases.add(new Case("wrong magic byte", "g1", bytes("g1"), new byte[] {1, 2, 3, 4, 5, 6}));
    cases.add(new Case("unknown schema id", "g2", bytes("g2"), new byte[] {0, 0, 0, 0x7f, 99, 2}));
    cases.add(new Case("too short", "g3", bytes("g3"), new byte[] {0, 0}));
    cases.add(new Case("tombstone", "g4", bytes("g4"), null));
    return cases;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

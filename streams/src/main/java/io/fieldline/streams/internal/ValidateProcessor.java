package io.fieldline.streams.internal;

import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.ProgressEvent;
import io.fieldline.schemas.ProgressKind;
import io.fieldline.schemas.SampleTask;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.streams.PipelineLimits;
import io.fieldline.streams.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Decodes and validates requests (raw bytes, so undecodable records are caught here, not by a deserializer that would
 * stop the stream), fans a valid request out into one SampleTask per image, and sends everything else to the dead
 * letter topic with its reason (and a REJECTED progress event for its status). A valid request is admitted only if
 * the queue bounds allow its images ({@link QuotaLedger}); otherwise it is REJECTED with the numbers. A request whose
 * schema cannot be fetched because the registry is down is neither: it waits ({@link RegistryOutage}).
 */
public final class ValidateProcessor implements Processor<byte[], byte[], String, Object> {
  /** Child names. */
  public static final String TO_SAMPLES = "samples-sink";
  public static final String TO_PROGRESS = "validate-progress-sink";
  public static final String TO_DLQ = "dlq-sink";
  /** Dead-letter headers. */
  public static final String HEADER_ERROR = "fieldline.error";
  public static final String HEADER_SOURCE = "fieldline.source";

  private final Topics topics;
  private final Deserializer<GenerationRequest> requests;
  private final RequestValidator validator;
  private final InstantSource clock;
  private final Runnable onReject;
  private final QuotaLedger ledger;
  private final PipelineLimits limits;
  private final RegistryOutage outage;
  private final BooleanSupplier enginesIdle;
  private final EarlyCommit earlyCommit = new EarlyCommit();
  private ProcessorContext<String, Object> context;

  /** @param enginesIdle whether this instance's engines have nothing to do (then an admitted request commits at once) */
  public ValidateProcessor(Topics topics, Deserializer<GenerationRequest> requests, RequestValidator validator,
      InstantSource clock, Runnable onReject, QuotaLedger ledger, PipelineLimits limits, RegistryOutage outage,
      BooleanSupplier enginesIdle) {
    this.outage = outage;
    this.enginesIdle = enginesIdle;
    this.topics = topics;
    this.requests = requests;
    this.validator = validator;
    this.clock = clock;
    this.onReject = onReject;
    this.ledger = ledger;
    this.limits = limits;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    Instant now = clock.instant();
    String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    if (record.value() == null) {
      reject(record, key, null, "empty record (a tombstone is not a request)", now);
      return;
    }
    GenerationRequest request;
    try {
      // A registry outage is not bad input: retried (RegistryOutage), never rejected.
      request = outage.call(() -> requests.deserialize(topics.requests(), record.value()));
    } catch (SerializationException e) {
      reject(record, key, null, "undecodable request: " + e.getMessage(), now);
      return;
    }
    RequestValidator.Verdict verdict = validator.validate(key, request, now);
    if (!verdict.accepted()) {
      reject(record, key, request, verdict.rejection(), now);
      return;
    }
    String id = request.getRequestId();
    String overQuota = ledger.admit(id, request.getClientId(), request.getCount(), limits);
    if (overQuota != null) {
      reject(record, key, request, overQuota, now);
      return;
    }
    ProgressEvent accepted = progress(id, ProgressKind.ACCEPTED, -1, request.getCount(), null, now);
    accepted.setClientId(request.getClientId());
    context.forward(new Record<>(id, (Object) accepted, now.toEpochMilli()), TO_PROGRESS);
    SamplerSpec resolved = SamplerSpec.newBuilder().setSolver(verdict.settings().solver().id())
        .setSteps(verdict.settings().steps()).setRtol(verdict.settings().rtol()).setAtol(verdict.settings().atol())
        .setGuidance(verdict.settings().guidance()).build();
    for (int i = 0; i < request.getCount(); i++) {
      SampleTask task = SampleTask.newBuilder().setRequestId(id).setIndex(i).setTotal(request.getCount())
          .setSeed(request.getSeed()).setModel(verdict.model().name()).setModelVersion(verdict.model().version())
          .setSampler(resolved).setPriority(request.getPriority()).setDeadlineEpochMs(request.getDeadlineEpochMs())
          .setAcceptedAtEpochMs(now.toEpochMilli()).setLabels(request.getLabels())
          .setClassIndex(verdict.classes().labelOf(i)).build();
      context.forward(new Record<>(id + "/" + i, (Object) task, now.toEpochMilli()), TO_SAMPLES);
    }
    if (enginesIdle.getAsBoolean()) {
      // The generator reads the samples only once this transaction commits. Idle engines would wait out the commit
      // interval for them, so commit now; busy engines have queued work to do meanwhile, and the interval batches.
      earlyCommit.request(context, now);
    }
  }

  private void reject(Record<byte[], byte[]> record, String key, GenerationRequest request, String reason,
      Instant now) {
    onReject.run();
    Optional<RecordMetadata> meta = context.recordMetadata();
    String source = meta.map(m -> m.topic() + "/" + m.partition() + "@" + m.offset()).orElse("unknown");
    RecordHeaders headers = new RecordHeaders(record.headers().toArray());
    headers.add(HEADER_ERROR, reason.getBytes(StandardCharsets.UTF_8));
    headers.add(HEADER_SOURCE, source.getBytes(StandardCharsets.UTF_8));
    context.forward(new Record<>(key, (Object) record.value(), record.timestamp(), headers), TO_DLQ);
    String requestId = request == null ? null : request.getRequestId();
    String id = requestId != null && !requestId.isBlank() ? requestId : key != null ? key : "unkeyed:" + source;
    ProgressEvent rejected = progress(id, ProgressKind.REJECTED, -1, 0, reason, now);
    rejected.setClientId(request == null ? null : request.getClientId());
    context.forward(new Record<>(id, (Object) rejected, now.toEpochMilli()), TO_PROGRESS);
  }

  static ProgressEvent progress(String id, ProgressKind kind, int index, int total, String reason, Instant now) {
    return ProgressEvent.newBuilder().setRequestId(id).setKind(kind).setIndex(index).setTotal(total).setReason(reason)
        .setAtEpochMs(now.toEpochMilli()).build();
  }
}

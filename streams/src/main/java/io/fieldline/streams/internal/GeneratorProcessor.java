package io.fieldline.streams.internal;

import io.fieldline.core.FieldModel;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import io.fieldline.core.engine.SampleHandle;
import io.fieldline.core.engine.SampleResult;
import io.fieldline.core.engine.SampleStatus;
import io.fieldline.schemas.CancelRequest;
import io.fieldline.schemas.GeneratedImage;
import io.fieldline.schemas.ProgressKind;
import io.fieldline.schemas.SampleTask;
import io.fieldline.server.ModelCatalog;
import io.fieldline.server.OnnxFieldModel;
import io.fieldline.server.SampleImages;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * The generator of one stream task. Each SampleTask is written to a changelogged store and handed to the device
 * engine, which integrates it on its own thread; a wall-clock punctuator collects finished samples, forwards their
 * images and progress, and deletes their tasks, all in the stream thread's current (exactly-once) transaction. After a
 * crash the store is restored and its tasks are submitted again; samples are deterministic, so the regenerated image is
 * the same. When the task closes (rebalance, shutdown) its samples are withdrawn from the engine; the store keeps them
 * for whoever owns the partition next.
 *
 * <p>No model is loaded here: a sample whose model version has no engines yet (a model first asked for after start)
 * waits, in the store and in memory, while the device's loader thread creates them; each punctuation starts the
 * waiting samples whose engines are ready, fails those whose load failed (with the reason; a later request tries the
 * load again) and drops those whose request was cancelled meanwhile.
 */
public final class GeneratorProcessor implements Processor<String, SampleTask, String, Object> {
  public static final String PENDING_STORE = "pending-samples";
  public static final String CANCELLATIONS_STORE = "cancellations";
  public static final String TO_IMAGES = "images-sink";
  public static final String TO_PROGRESS = "generator-progress-sink";

  private record Finished(String key, SampleTask task, SampleResult result) {}

  private final ModelCatalog catalog;
  private final DeviceEngines engines;
  private final InstantSource clock;
  private final Duration interval;
  private final AtomicLong cancellationsSeen;
  private final EarlyCommit earlyCommit = new EarlyCommit();
  private long cancellationsChecked = -1;
  private final Queue<Finished> finished = new ConcurrentLinkedQueue<>();
  private final Map<String, SampleHandle> inFlight = new HashMap<>();
  private final Map<String, ModelCatalog.Entry> entries = new HashMap<>();
  private final Map<String, SampleTask> waiting = new java.util.LinkedHashMap<>(); // for their engines to load
  private ProcessorContext<String, Object> context;
  private KeyValueStore<String, SampleTask> pending;
  private ReadOnlyKeyValueStore<String, ValueAndTimestamp<CancelRequest>> cancellations;
  private volatile boolean closed;
  // Bumped by every init: a result of a sample submitted before a close and re-init belongs to an old generation
  // and is dropped (the re-init resubmits its task from the store).
  private volatile long generation;

  /**
   * @param cancellationsSeen bumped by the cancellation store's updater; in-flight samples are checked against the
   *     store only when it moved (a scan per tick would cost O(in-flight) every interval)
   */
  public GeneratorProcessor(ModelCatalog catalog, DeviceEngines engines, InstantSource clock, Duration interval,
      AtomicLong cancellationsSeen) {
    this.cancellationsSeen = cancellationsSeen;
    this.catalog = catalog;
    this.engines = engines;
    this.clock = clock;
    this.interval = interval;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    // Kafka Streams may close a processor and init it again (a task revoked and reassigned): start clean.
    this.generation++;
    this.closed = false;
    inFlight.clear();
    finished.clear();
    entries.clear();
    waiting.clear();
    this.context = context;
    this.pending = context.getStateStore(PENDING_STORE);
    this.cancellations = context.getStateStore(CANCELLATIONS_STORE);
    try (KeyValueIterator<String, SampleTask> it = pending.all()) {
      while (it.hasNext()) {
        KeyValue<String, SampleTask> kv = it.next();
        submit(kv.key, kv.value); // restored after a restart or a rebalance
      }
    }
    context.schedule(interval, PunctuationType.WALL_CLOCK_TIME, t -> drain());
  }

  @Override
  public void process(Record<String, SampleTask> record) {
    SampleTask task = record.value();
    if (task == null) {
      return;
    }
    if (isCancelled(task.getRequestId())) {
      emitProgress(task, ProgressKind.CANCELLED, "cancelled before it started", clock.instant());
      return;
    }
    pending.put(record.key(), task);
    submit(record.key(), task);
  }

  private boolean isCancelled(String requestId) {
    return cancellations.get(requestId) != null;
  }

  private void submit(String key, SampleTask task) {
    if (inFlight.containsKey(key) || waiting.containsKey(key)) {
      return;
    }
    ModelCatalog.Entry entry;
    try {
      entry = entry(task);
    } catch (RuntimeException e) {
      fail(key, task, "model " + task.getModel() + "@" + task.getModelVersion() + " is unavailable: " + e.getMessage());
      return;
    }
    DeviceEngines.Readiness readiness = engines.ensure(entry);
    switch (readiness.state()) {
      case READY -> start(key, task, entry);
      case LOADING -> waiting.put(key, task);
      case FAILED -> fail(key, task, cannotLoad(task, readiness));
    }
  }

  private static String cannotLoad(SampleTask task, DeviceEngines.Readiness readiness) {
    return "model " + task.getModel() + "@" + task.getModelVersion() + " could not be loaded: " + readiness.failure();
  }

  private void fail(String key, SampleTask task, String reason) {
    finished.add(new Finished(key, task, new SampleResult(null, SampleStatus.FAILED, null, 0, Duration.ZERO,
        Duration.ZERO, reason)));
  }

  private void start(String key, SampleTask task, ModelCatalog.Entry entry) {
    var spec = task.getSampler();
    SamplerSettings settings = new SamplerSettings(Solver.parse(spec.getSolver()), spec.getSteps(), spec.getRtol(),
        spec.getAtol(), spec.getGuidance() == null ? 1.0 : spec.getGuidance());
    Instant deadline = task.getDeadlineEpochMs() == null ? null : Instant.ofEpochMilli(task.getDeadlineEpochMs());
    var core = new io.fieldline.core.engine.SampleTask(task.getRequestId(), task.getIndex(), task.getSeed(), settings,
        task.getPriority(), deadline, task.getClassIndex());
    SampleHandle handle = engines.submit(entry, core);
    inFlight.put(key, handle);
    long submittedIn = generation;
    handle.result().thenAccept(r -> {
      if (!closed && submittedIn == generation) {
        finished.add(new Finished(key, task, r));
      }
    });
  }

  /** Starts the waiting samples whose engines became ready, fails those whose load failed, drops cancelled ones. */
  private void startWaiting(Instant now) {
    if (waiting.isEmpty()) {
      return;
    }
    Map<ModelCatalog.Entry, DeviceEngines.Readiness> readiness = new HashMap<>();
    Map<String, Boolean> cancelled = new HashMap<>();
    var it = waiting.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, SampleTask> w = it.next();
      SampleTask task = w.getValue();
      if (cancelled.computeIfAbsent(task.getRequestId(), this::isCancelled)) {
        it.remove();
        emitProgress(task, ProgressKind.CANCELLED, "cancelled while its model loaded", now);
        pending.delete(w.getKey());
        continue;
      }
      ModelCatalog.Entry entry = entry(task); // resolved when it began to wait
      DeviceEngines.Readiness r = readiness.computeIfAbsent(entry, engines::ensure);
      if (r.state() != DeviceEngines.State.LOADING) {
        it.remove();
        if (r.state() == DeviceEngines.State.READY) {
          start(w.getKey(), task, entry);
        } else {
          fail(w.getKey(), task, cannotLoad(task, r));
        }
      }
    }
  }

  private ModelCatalog.Entry entry(SampleTask task) {
    String k = task.getModel() + "@" + task.getModelVersion();
    ModelCatalog.Entry e = entries.get(k);
    if (e == null) {
      e = catalog.resolve(task.getModel(), task.getModelVersion()).orElseThrow(() ->
          new IllegalStateException("no longer in the catalog"));
      entries.put(k, e);
    }
    return e;
  }

  /** Forwards what the engine finished and deletes those tasks; cancels requests cancelled since. */
  void drain() {
    Instant now = clock.instant();
    startWaiting(now);
    Finished f;
    boolean ended = false;
    while ((f = finished.poll()) != null) {
      ended = true;
      inFlight.remove(f.key());
      SampleResult r = f.result();
      if (r.status() == SampleStatus.COMPLETED) {
        emitImage(f.task(), r, now);
        emitProgress(f.task(), ProgressKind.COMPLETED, null, now);
      } else {
        ProgressKind kind = switch (r.status()) {
          case EXPIRED -> ProgressKind.EXPIRED;
          case CANCELLED -> ProgressKind.CANCELLED;
          default -> ProgressKind.FAILED;
        };
        emitProgress(f.task(), kind, r.message(), now);
      }
      pending.delete(f.key());
    }
    if (ended && inFlight.isEmpty() && waiting.isEmpty()) {
      // Nothing more of this task is coming, so waiting out the commit interval would batch nothing: commit now and
      // the last images of a request reach readers (read_committed) up to one interval sooner.
      earlyCommit.request(context, now);
    }
    long cancellations = cancellationsSeen.get();
    if (cancellations != cancellationsChecked) {
      cancellationsChecked = cancellations;
      Map<String, Boolean> cancelled = new HashMap<>();
      for (SampleHandle h : List.copyOf(inFlight.values())) {
        if (cancelled.computeIfAbsent(h.task().requestId(), this::isCancelled)) {
          h.cancel();
        }
      }
    }
  }

  private void emitImage(SampleTask task, SampleResult r, Instant now) {
    ModelCatalog.Entry entry = entry(task);
    FieldModel model = catalog.load(entry);
    byte[] png = SampleImages.png(model, r.task(), r.x(), r.nfe());
    String sha = model instanceof OnnxFieldModel onnx ? onnx.bundle().weightsSha256() : "";
    GeneratedImage image = GeneratedImage.newBuilder().setRequestId(task.getRequestId()).setIndex(task.getIndex())
        .setSeed(task.getSeed()).setPng(ByteBuffer.wrap(png)).setWidth(model.shape().width())
        .setHeight(model.shape().height()).setChannels(model.shape().channels()).setModel(entry.name())
        .setModelVersion(entry.version()).setModelSha256(sha).setSampler(r.task().settings().describe())
        .setNfe(r.nfe()).setQueueMs(r.queueTime().toMillis()).setComputeMs(r.computeTime().toMillis())
        .setLabels(task.getLabels()).setClassIndex(task.getClassIndex())
        .setClassName(SampleImages.className(model, r.task())).build();
    context.forward(new Record<>(task.getRequestId(), (Object) image, now.toEpochMilli()), TO_IMAGES);
  }

  private void emitProgress(SampleTask task, ProgressKind kind, String reason, Instant now) {
    context.forward(new Record<>(task.getRequestId(), (Object) ValidateProcessor.progress(task.getRequestId(), kind,
        task.getIndex(), task.getTotal(), reason, now), now.toEpochMilli()), TO_PROGRESS);
  }

  @Override
  public void close() {
    closed = true;
    inFlight.values().forEach(SampleHandle::cancel); // withdraw: the store keeps the tasks for the next owner
    inFlight.clear();
    finished.clear();
    waiting.clear();
  }
}

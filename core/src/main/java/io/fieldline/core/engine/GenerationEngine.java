package io.fieldline.core.engine;

import io.fieldline.core.FieldModel;
import io.fieldline.core.Priors;
import io.fieldline.core.internal.Integrators;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The continuous (step-level) batching engine of one device: every sample in flight is its own ODE integration
 * (solver, stage, time, step size, error control), and each round gathers the pending field evaluations of up to
 * {@code maxBatchSize} samples, runs ONE batched forward pass, and hands each sample its row.
 *
 * <p>Semantics:
 * <ul>
 *   <li>Samples join and leave between any two forward passes; requests with different solvers and step counts
 *       share passes. A sample's result is bitwise independent of its batch-mates, given a {@link FieldModel} that
 *       honours its row-independence contract.</li>
 *   <li>Priorities: waiting samples start, and active samples are put into batches, by priority (larger first),
 *       then submission order. Up to {@code maxActive} samples are in flight; a waiting sample of higher priority
 *       than the lowest active priority may start beyond that, up to {@code maxActive + maxBatchSize},
 *       so urgent work overtakes bulk work at the next step instead of after a whole integration.</li>
 *   <li>Deadlines and cancellation act between steps: an expired or cancelled sample is dropped before the next
 *       forward pass, with the NFE it consumed.</li>
 *   <li>Back-pressure: at most {@code maxQueued} samples wait; beyond that {@link #submit} answers REJECTED.</li>
 *   <li>Failures: if the model throws, the samples of that batch FAIL and the engine goes on; a sample whose state
 *       turns non-finite FAILS alone.</li>
 * </ul>
 *
 * <p>Time comes from an injected {@link InstantSource}, so deadlines are testable without sleeping. Drive it either
 * with {@link #start()} (its own thread) or by calling {@link #runOnce()} from one thread (tests, benchmarks); never
 * both. {@link #submit} and the cancel methods are thread-safe.
 */
public final class GenerationEngine implements AutoCloseable {
  private static final Comparator<Sample> ORDER =
      Comparator.<Sample>comparingInt(s -> -s.task.priority()).thenComparingLong(s -> s.sequence);
  private static final Comparator<Sample> BY_DEADLINE =
      Comparator.<Sample, Instant>comparing(s -> s.task.deadline()).thenComparingLong(s -> s.sequence);

  private static final System.Logger LOG = System.getLogger(GenerationEngine.class.getName());

  private final FieldModel model;
  private final String name;
  private final int maxBatch;
  private final int maxActive;
  private final int maxQueued;
  private final InstantSource clock;
  private final EngineListener listener;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition workArrived = lock.newCondition();
  // Guarded by lock. Finished samples stay in the queues until polled (lazy deletion).
  private final PriorityQueue<Sample> waiting = new PriorityQueue<>(ORDER);
  private final PriorityQueue<Sample> waitingDeadlines = new PriorityQueue<>(BY_DEADLINE);
  private final Map<String, Set<Sample>> byRequest = new HashMap<>();
  private int queued;
  private long sequence;

  // Engine thread only.
  private final List<Sample> active = new ArrayList<>();
  private final double[][] in;
  private final double[] cond;
  private final int[] labels;
  private final double[][] out;

  private volatile long batches;
  private volatile long evaluations;
  private volatile int largestBatch;
  // Results end on the engine thread and on submitting or cancelling threads, hence adders rather than volatile ++.
  private final LongAdder completed = new LongAdder();
  private final LongAdder expired = new LongAdder();
  private final LongAdder cancelled = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder rejected = new LongAdder();

  private final AtomicLong listenerFailures = new AtomicLong();
  private final AtomicLong roundFailures = new AtomicLong();
  private volatile int activeCount;
  private volatile boolean running;
  private Thread thread;

  private GenerationEngine(Builder b) {
    this.model = b.model;
    this.name = b.name;
    this.maxBatch = b.maxBatchSize;
    this.maxActive = b.maxActive > 0 ? b.maxActive : b.maxBatchSize;
    this.maxQueued = b.maxQueued;
    this.clock = b.clock;
    this.listener = b.listener;
    // One spare row: a guided sample needs two rows and must fit even when maxBatch is 1.
    this.in = new double[maxBatch + 1][];
    this.cond = new double[maxBatch + 1];
    this.labels = new int[maxBatch + 1];
    this.out = new double[maxBatch + 1][model.physics().outputDimension()];
  }

  /** A new builder; {@code setModel} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The model this engine serves. */
  public FieldModel model() {
    return model;
  }

  /** The largest number of rows in one forward pass. */
  public int maxBatchSize() {
    return maxBatch;
  }

  /**
   * Samples waiting or being integrated: the engine's load, for placing new samples on the least-loaded engine of a
   * pool. A snapshot; it may be stale by one scheduling round.
   */
  public int load() {
    lock.lock();
    try {
      return queued + activeCount;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues a sample. Never blocks. If the queue is full, or the deadline has already passed, the returned handle's
   * result is already complete (REJECTED or EXPIRED).
   */
  public SampleHandle submit(SampleTask task) {
    Objects.requireNonNull(task, "task");
    Instant now = clock.instant();
    Sample sample;
    SampleResult immediate = null;
    lock.lock();
    try {
      sample = new Sample(this, task, sequence++, now);
      if (queued >= maxQueued) {
        immediate = result(sample, SampleStatus.REJECTED, null, "engine queue full (" + maxQueued + " samples waiting)");
      } else if (task.deadline() != null && !task.deadline().isAfter(now)) {
        immediate = result(sample, SampleStatus.EXPIRED, null, "deadline " + task.deadline() + " already passed");
      } else {
        waiting.add(sample);
        if (task.deadline() != null) {
          waitingDeadlines.add(sample);
        }
        byRequest.computeIfAbsent(task.requestId(), k -> new LinkedHashSet<>()).add(sample);
        queued++;
        workArrived.signalAll();
      }
    } finally {
      lock.unlock();
    }
    if (immediate != null) {
      finish(sample, immediate);
    }
    return new SampleHandle(sample);
  }

  /**
   * Cancels every queued or running sample of a request. Queued ones end at once; running ones before their next
   * step.
   *
   * @return how many samples were asked to stop
   */
  public int cancel(String requestId) {
    List<Sample> samples;
    lock.lock();
    try {
      Set<Sample> set = byRequest.get(requestId);
      samples = set == null ? List.of() : new ArrayList<>(set);
    } finally {
      lock.unlock();
    }
    for (Sample s : samples) {
      cancelSample(s);
    }
    return samples.size();
  }

  void cancelSample(Sample sample) {
    sample.cancelRequested = true;
    boolean wasWaiting;
    lock.lock();
    try {
      wasWaiting = sample.integrator == null && sample.admitted == null && !sample.finished.get();
      if (wasWaiting) {
        queued--;
      }
    } finally {
      lock.unlock();
    }
    if (wasWaiting) {
      finish(sample, result(sample, SampleStatus.CANCELLED, null, "cancelled"));
    }
  }

  /**
   * One scheduling round on the calling thread: drops expired and cancelled samples, starts waiting ones, runs one
   * batched forward pass and advances the samples in it.
   *
   * @return the number of rows evaluated (0 if there was nothing to do); a guided sample takes two
   */
  public int runOnce() {
    Instant now = clock.instant();
    List<Sample> admitted = admit(now);
    for (Sample s : admitted) {
      start(s, now);
    }
    dropStoppedActive(now);
    activeCount = active.size();
    // Rows: one per sample, two for a guided one (its class's field and the unconditional field at the same point).
    int size = 0;
    int rows = 0;
    while (size < active.size()) {
      Sample s = active.get(size);
      int need = s.task.evaluationsPerPoint();
      if (size > 0 && rows + need > maxBatch) {
        break;
      }
      double[] point = s.integrator.point();
      for (int r = 0; r < need; r++) {
        in[rows + r] = point;
        cond[rows + r] = s.integrator.cond();
        labels[rows + r] = r == 0 && s.task.settings().guidance() != 0 ? s.task.label() : FieldModel.NO_LABEL;
      }
      rows += need;
      size++;
    }
    // A pass of, say, 50 rows on a model that computes 16 per call pays for 64. Leaving the last samples (lowest
    // priority, then newest) for a later pass keeps every call full; they join as others finish, so only the final
    // passes of a drain are padded. No sample's result depends on which pass it is in.
    int perCall = model.rowsPerCall();
    while (rows > perCall && rows % perCall != 0) {
      size--;
      rows -= active.get(size).task.evaluationsPerPoint();
    }
    if (size == 0) {
      return 0;
    }
    long startNanos = System.nanoTime();
    RuntimeException failure = null;
    try {
      model.evaluate(in, cond, labels, out, rows);
    } catch (RuntimeException e) {
      failure = e;
    }
    Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
    final int evaluated = rows;
    notifyListener(() -> listener.onBatch(evaluated, took));
    batches++;
    evaluations += rows;
    largestBatch = Math.max(largestBatch, rows);
    Instant after = clock.instant();
    boolean anyLeft = false;
    int row = 0;
    for (int i = 0; i < size; i++) {
      Sample s = active.get(i);
      int used = s.task.evaluationsPerPoint();
      double[] field = out[row];
      if (used == 2 && failure == null) {
        s.task.settings().guide(field, out[row + 1]);
      }
      for (int r = 0; r < used; r++) {
        in[row + r] = null;
      }
      row += used;
      if (failure != null) {
        anyLeft = true;
        finish(s, result(s, SampleStatus.FAILED, null, "model evaluation failed: " + failure.getMessage(), after));
        continue;
      }
      try {
        s.integrator.accept(field);
      } catch (RuntimeException e) {
        anyLeft = true;
        finish(s, result(s, SampleStatus.FAILED, null, e.getMessage(), after));
        continue;
      }
      if (s.integrator.done()) {
        anyLeft = true;
        double[] x = s.integrator.state().clone();
        SampleResult r = allFinite(x)
            ? result(s, SampleStatus.COMPLETED, x, null, after)
            : result(s, SampleStatus.FAILED, null, "sample became non-finite (NaN or infinity)", after);
        finish(s, r);
      }
    }
    if (anyLeft) {
      active.removeIf(s -> s.finished.get());
      activeCount = active.size();
    }
    return rows;
  }

  private List<Sample> admit(Instant now) {
    List<Sample> admitted = new ArrayList<>();
    List<Sample> expiredNow = new ArrayList<>();
    lock.lock();
    try {
      while (!waitingDeadlines.isEmpty() && !waitingDeadlines.peek().task.deadline().isAfter(now)) {
        Sample s = waitingDeadlines.poll();
        if (s.admitted == null && !s.finished.get() && !s.cancelRequested) {
          s.cancelRequested = true; // removes it lazily from `waiting`
          queued--;
          expiredNow.add(s);
        }
      }
      int lowestActive = active.isEmpty() ? Integer.MAX_VALUE : active.get(active.size() - 1).task.priority();
      int inFlight = active.size();
      while (!waiting.isEmpty()) {
        Sample head = waiting.peek();
        if (head.finished.get() || head.cancelRequested) {
          waiting.poll();
          continue;
        }
        boolean room = inFlight < maxActive
            || (inFlight < maxActive + maxBatch && head.task.priority() > lowestActive);
        if (!room) {
          break;
        }
        waiting.poll();
        // Not before its submission: a stream thread may submit after this round read the clock.
        head.admitted = head.submitted.isAfter(now) ? head.submitted : now;
        queued--;
        admitted.add(head);
        inFlight++;
        lowestActive = Math.min(lowestActive, head.task.priority());
      }
    } finally {
      lock.unlock();
    }
    for (Sample s : expiredNow) {
      finish(s, result(s, SampleStatus.EXPIRED, null, "deadline passed while queued"));
    }
    return admitted;
  }

  private void start(Sample s, Instant now) {
    // Checked here, not in the forward pass, so a bad label fails its own sample and not its batch-mates.
    String problem = FieldModel.labelProblem(model, s.task.label());
    if (problem != null) {
      finish(s, result(s, SampleStatus.FAILED, null, problem, now));
      return;
    }
    try {
      double[] x0 = Priors.draw(model.physics(), s.task.seed(), s.task.index());
      s.integrator = Integrators.backward(model.physics(), s.task.settings(), x0);
    } catch (RuntimeException e) {
      finish(s, result(s, SampleStatus.FAILED, null, "could not start: " + e.getMessage(), now));
      return;
    }
    int at = Collections.binarySearch(active, s, ORDER);
    active.add(at < 0 ? -at - 1 : at, s);
  }

  private void dropStoppedActive(Instant now) {
    active.removeIf(s -> {
      if (s.cancelRequested) {
        finish(s, result(s, SampleStatus.CANCELLED, null, "cancelled", now));
        return true;
      }
      if (s.task.deadline() != null && !s.task.deadline().isAfter(now)) {
        finish(s, result(s, SampleStatus.EXPIRED, null, "deadline passed after " + s.nfe() + " evaluations", now));
        return true;
      }
      return false;
    });
  }

  private static boolean allFinite(double[] x) {
    for (double v : x) {
      if (!Double.isFinite(v)) {
        return false;
      }
    }
    return true;
  }

  private SampleResult result(Sample s, SampleStatus status, double[] x, String message) {
    return result(s, status, x, message, clock.instant());
  }

  private SampleResult result(Sample s, SampleStatus status, double[] x, String message, Instant end) {
    // Clamped: a wall clock may step back between two readings; a negative time would be nonsense to every consumer
    // (Micrometer's Timer logs and drops it).
    Duration queue = nonNegative(Duration.between(s.submitted, s.admitted == null ? end : s.admitted));
    Duration compute = s.admitted == null ? Duration.ZERO : nonNegative(Duration.between(s.admitted, end));
    return new SampleResult(s.task, status, x, s.nfe(), queue, compute, message);
  }

  private static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }

  /**
   * Runs a listener callback; a listener that throws is logged (the first time and every 1,000th) and otherwise
   * ignored, because metrics must never stop the device or leave a sample's handle incomplete.
   */
  private void notifyListener(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      long n = listenerFailures.incrementAndGet();
      if (n == 1 || n % 1000 == 0) {
        LOG.log(System.Logger.Level.WARNING, "engine " + name + ": listener failed (" + n + " times so far)", e);
      }
    }
  }

  private void finish(Sample s, SampleResult r) {
    if (!s.finished.compareAndSet(false, true)) {
      return;
    }
    lock.lock();
    try {
      Set<Sample> set = byRequest.get(s.task.requestId());
      if (set != null) {
        set.remove(s);
        if (set.isEmpty()) {
          byRequest.remove(s.task.requestId());
        }
      }
    } finally {
      lock.unlock();
    }
    switch (r.status()) {
      case COMPLETED -> completed.increment();
      case EXPIRED -> expired.increment();
      case CANCELLED -> cancelled.increment();
      case FAILED -> failed.increment();
      case REJECTED -> rejected.increment();
    }
    notifyListener(() -> listener.onResult(r));
    s.future.complete(r);
  }

  /** Current counters. */
  public EngineStats stats() {
    int q;
    lock.lock();
    try {
      q = queued;
    } finally {
      lock.unlock();
    }
    return new EngineStats(batches, evaluations, largestBatch, completed.sum(), expired.sum(), cancelled.sum(),
        failed.sum(), rejected.sum(), q,
        activeCount); // active itself belongs to the engine thread
  }

  /** Starts the engine's own thread, which runs rounds while there is work and sleeps otherwise. */
  public synchronized void start() {
    if (thread != null) {
      throw new IllegalStateException("engine already started");
    }
    running = true;
    thread = new Thread(this::loop, "fieldline-engine-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    while (running) {
      int rows;
      try {
        rows = runOnce();
      } catch (RuntimeException e) {
        // A bug, not a model failure (runOnce catches those). Fail the samples in flight, which would otherwise fail
        // the same way every round, and keep serving the queue.
        long n = roundFailures.incrementAndGet();
        if (n == 1 || n % 1000 == 0) {
          LOG.log(System.Logger.Level.ERROR, "engine " + name + ": scheduling round failed (" + n + " times)", e);
        }
        Instant now = clock.instant();
        for (Sample s : active) {
          finish(s, result(s, SampleStatus.FAILED, null, "engine error: " + e, now));
        }
        active.clear();
        activeCount = 0;
        rows = 0;
      }
      if (rows == 0) {
        lock.lock();
        try {
          if (running && queued == 0) {
            workArrived.await(100, TimeUnit.MILLISECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /**
   * Stops the engine thread (after its current round) and cancels every sample still queued or running, so every
   * handle completes. Does not close the model.
   */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      running = false;
      t = thread;
    }
    lock.lock();
    try {
      workArrived.signalAll();
    } finally {
      lock.unlock();
    }
    if (t != null) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<Sample> remaining = new ArrayList<>(active);
    active.clear();
    lock.lock();
    try {
      for (Set<Sample> set : byRequest.values()) {
        remaining.addAll(set);
      }
      waiting.clear();
      waitingDeadlines.clear();
      queued = 0;
    } finally {
      lock.unlock();
    }
    Instant now = clock.instant();
    for (Sample s : remaining) {
      finish(s, result(s, SampleStatus.CANCELLED, null, "engine closed", now));
    }
  }

  /** Builder: {@code setX} required, {@code optX} optional. */
  public static final class Builder {
    private FieldModel model;
    private String name = "cpu";
    private int maxBatchSize = 64;
    private int maxActive = -1;
    private int maxQueued = 100_000;
    private InstantSource clock = InstantSource.system();
    private EngineListener listener = new EngineListener() {};

    private Builder() {}

    /** The field model. Required. */
    public Builder setModel(FieldModel model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /** The device name, used for the thread name and metrics. Default {@code cpu}. */
    public Builder optName(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Most rows in one forward pass, 1..65536. Default 64. */
    public Builder optMaxBatchSize(int maxBatchSize) {
      if (maxBatchSize < 1 || maxBatchSize > 65_536) {
        throw new IllegalArgumentException("maxBatchSize must be in 1..65536, got " + maxBatchSize);
      }
      this.maxBatchSize = maxBatchSize;
      return this;
    }

    /**
     * Samples integrated at once (their state lives in memory), at least 1. Default: maxBatchSize, so every active
     * sample takes a step in every pass.
     */
    public Builder optMaxActive(int maxActive) {
      if (maxActive < 1) {
        throw new IllegalArgumentException("maxActive must be >= 1, got " + maxActive);
      }
      this.maxActive = maxActive;
      return this;
    }

    /** Most samples waiting to start; beyond it submissions are REJECTED. Default 100,000. */
    public Builder optMaxQueued(int maxQueued) {
      if (maxQueued < 0) {
        throw new IllegalArgumentException("maxQueued must be >= 0, got " + maxQueued);
      }
      this.maxQueued = maxQueued;
      return this;
    }

    /** The clock for deadlines and timings. Default the system clock. */
    public Builder optClock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** A listener for metrics. Default none. */
    public Builder optListener(EngineListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Builds the engine (not started). */
    public GenerationEngine build() {
      if (model == null) {
        throw new IllegalStateException("GenerationEngine needs setModel");
      }
      return new GenerationEngine(this);
    }
  }
}

package io.fieldline.streams.internal;

import io.fieldline.core.FieldModel;
import io.fieldline.core.engine.EnginePool;
import io.fieldline.core.engine.GenerationEngine;
import io.fieldline.core.engine.SampleHandle;
import io.fieldline.core.engine.SampleTask;
import io.fieldline.server.ModelCatalog;
import io.fieldline.streams.PipelineMetrics;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The generation engines of one device, shared by every stream task of the process: per model version a pool of
 * {@code workers} engines, each on its own thread with its own copy of the model (or, in tests, stepped by
 * {@link #runUntilIdle()}), so ODE work never holds a stream thread. A sample goes to the least-loaded engine of its
 * version's pool; its image does not depend on which (rows are independent of their batch-mates).
 *
 * <p>Pools are created by {@link #prepare} in the caller (start-up, before any stream thread runs) or by
 * {@link #ensure} on this device's loader thread (a model first asked for after start), never on a stream thread: a
 * stream thread asks {@link #ensure} and holds its samples while the answer is {@link State#LOADING}. A pool that
 * failed to load is answered {@link State#FAILED} to every caller for {@link #RETRY_AFTER}, then forgotten, so a later
 * request tries again (the catalog answers at once while the version's files are unchanged); the copies a failed or
 * late (closed meanwhile) load made are closed.
 */
public final class DeviceEngines implements AutoCloseable {
  private final ModelCatalog catalog;
  private final String device;
  private final int maxBatch;
  private final int maxQueued;
  private final int workers;
  private final InstantSource clock;
  private final boolean threads;
  private final PipelineMetrics metrics;
  private final Map<ModelCatalog.Entry, CompletableFuture<EnginePool>> pools = new ConcurrentHashMap<>();
  private final List<FieldModel> copies = new ArrayList<>(); // guarded by this
  private final Map<CompletableFuture<EnginePool>, Instant> failures = new ConcurrentHashMap<>();
  /** How long a failed load is answered FAILED to every caller before the next one tries again. */
  static final Duration RETRY_AFTER = Duration.ofSeconds(30);
  private final ExecutorService loader; // null in manual mode: loads wait in manualLoads for runUntilIdle
  private final Queue<Runnable> manualLoads = new ConcurrentLinkedQueue<>();
  private boolean closed; // guarded by this

  /** Whether a model version's engines can take samples. */
  public enum State { READY, LOADING, FAILED }

  /** The answer of {@link #ensure}: a state, and for {@link State#FAILED} why. */
  public record Readiness(State state, String failure) {
    static final Readiness READY = new Readiness(State.READY, null);
    static final Readiness LOADING = new Readiness(State.LOADING, null);
  }

  /**
   * @param maxQueued most samples waiting in each engine's queue (beyond it samples end REJECTED)
   * @param workers engines per model version (each with its own model instance)
   * @param threads true: each engine runs on its own thread; false: the caller steps them (tests)
   */
  public DeviceEngines(ModelCatalog catalog, String device, int maxBatch, int maxQueued, int workers,
      InstantSource clock, boolean threads, PipelineMetrics metrics) {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be >= 1, got " + workers);
    }
    this.catalog = catalog;
    this.device = device;
    this.maxBatch = maxBatch;
    this.maxQueued = maxQueued;
    this.workers = workers;
    this.clock = clock;
    this.threads = threads;
    this.metrics = metrics;
    this.loader = threads ? Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "fieldline-engine-loader-" + device);
      t.setDaemon(true);
      return t;
    }) : null;
  }

  /**
   * Creates a model version's engines now, in the caller (loading its copies), rather than at its first sample; waits
   * for a load {@link #ensure} already started.
   *
   * @throws RuntimeException the load's failure (the version is then forgotten, as by {@link #ensure})
   */
  public void prepare(ModelCatalog.Entry entry) {
    CompletableFuture<EnginePool> mine = new CompletableFuture<>();
    CompletableFuture<EnginePool> pool = pools.putIfAbsent(entry, mine);
    if (pool == null) {
      pool = mine;
      create(entry, mine);
    } else if (loader == null) {
      runLoads();
    }
    try {
      pool.join();
    } catch (CompletionException e) {
      pools.remove(entry, pool);
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  /**
   * Whether a model version's engines are ready, starting their creation on the loader thread if nobody has. Never
   * loads in the caller. A failed load is answered {@link State#FAILED} to every caller for {@link #RETRY_AFTER}; the
   * first call after that starts a new one.
   */
  public Readiness ensure(ModelCatalog.Entry entry) {
    CompletableFuture<EnginePool> pool = pools.computeIfAbsent(entry, e -> {
      CompletableFuture<EnginePool> f = new CompletableFuture<>();
      Runnable load = () -> create(e, f);
      if (loader != null) {
        loader.execute(load);
      } else {
        manualLoads.add(load);
      }
      return f;
    });
    if (!pool.isDone()) {
      return Readiness.LOADING;
    }
    try {
      pool.join();
      return Readiness.READY;
    } catch (CompletionException e) {
      // Every caller (all stream tasks share these engines) sees the failure until RETRY_AFTER has passed; then the
      // next one tries again (a model fixed in place, or memory freed).
      Instant failedAt = failures.computeIfAbsent(pool, f -> clock.instant());
      if (!clock.instant().isBefore(failedAt.plus(RETRY_AFTER))) {
        pools.remove(entry, pool);
        failures.remove(pool);
      }
      return new Readiness(State.FAILED, e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
    }
  }

  /**
   * Queues a sample on the least-loaded engine of a model version.
   *
   * @throws IllegalStateException if the version's engines are not ready (ask {@link #ensure} first)
   */
  public SampleHandle submit(ModelCatalog.Entry entry, SampleTask task) {
    CompletableFuture<EnginePool> pool = pools.get(entry);
    EnginePool ready = pool == null ? null : readyOrNull(pool);
    if (ready == null) {
      throw new IllegalStateException(entry.name() + "@" + entry.version() + " has no engines ready on " + device);
    }
    return ready.submit(task);
  }

  private void create(ModelCatalog.Entry entry, CompletableFuture<EnginePool> into) {
    List<FieldModel> made = new ArrayList<>();
    EnginePool pool;
    try {
      pool = createPool(entry, made);
    } catch (RuntimeException e) {
      made.forEach(FieldModel::close); // the copies a half-built pool loaded
      into.completeExceptionally(e);
      return;
    }
    synchronized (this) { // against close(): a pool and its copies are either seen by close() or closed here
      if (closed) {
        pool.close();
        made.forEach(FieldModel::close);
        into.completeExceptionally(new IllegalStateException("the engines of " + device + " are closed"));
        return;
      }
      copies.addAll(made);
      into.complete(pool);
    }
  }

  /** Builds (and in thread mode starts) a pool; the model copies it loads go to {@code made}, for the caller. */
  private EnginePool createPool(ModelCatalog.Entry e, List<FieldModel> made) {
    List<GenerationEngine> pool = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      FieldModel model;
      if (i == 0) {
        model = catalog.load(e);
      } else {
        model = catalog.loadCopy(e);
        made.add(model);
      }
      pool.add(GenerationEngine.builder().setModel(model)
          .optName(device + "-" + e.name() + (workers > 1 ? "-" + i : "")).optMaxBatchSize(maxBatch)
          .optMaxQueued(maxQueued).optClock(clock).optListener(metrics.engineListener(e.name(), e.version(), device))
          .build());
    }
    EnginePool enginePool = new EnginePool(pool);
    if (threads) {
      enginePool.start();
    }
    return enginePool;
  }

  /**
   * Whether no engine of this device has a sample waiting or running, over every model version loaded. A hint for
   * commit timing only: another thread may submit the next moment.
   */
  public boolean idle() {
    for (CompletableFuture<EnginePool> pool : pools.values()) {
      EnginePool ready = readyOrNull(pool);
      if (ready != null && ready.load() > 0) {
        return false;
      }
    }
    return true;
  }

  /** A pool whose creation has finished well, else null (still loading, or failed). */
  private static EnginePool readyOrNull(CompletableFuture<EnginePool> pool) {
    return pool.isDone() && !pool.isCompletedExceptionally() ? pool.join() : null;
  }

  /** The device's name, e.g. {@code cpu} or {@code gpu:0}. */
  public String device() {
    return device;
  }

  /** Manual mode: creates the pools asked for, then steps every engine until none has work. */
  public void runUntilIdle() {
    runLoads();
    boolean busy = true;
    while (busy) {
      busy = false;
      for (CompletableFuture<EnginePool> pool : List.copyOf(pools.values())) {
        EnginePool ready = readyOrNull(pool);
        busy |= ready != null && ready.runOnce() > 0;
      }
    }
  }

  /** Manual mode: runs the pool creations {@link #ensure} queued. */
  void runLoads() {
    Runnable load;
    while ((load = manualLoads.poll()) != null) {
      load.run();
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    if (loader != null) {
      loader.shutdownNow();
    }
    for (CompletableFuture<EnginePool> pool : pools.values()) {
      // A load that never ran (dropped by shutdownNow, or still queued in manual mode) must not leave prepare() waiting.
      pool.completeExceptionally(new IllegalStateException("the engines of " + device + " are closed"));
      if (!pool.isCompletedExceptionally()) {
        pool.join().close();
      }
    }
    pools.clear();
    manualLoads.clear();
    synchronized (this) {
      copies.forEach(FieldModel::close);
      copies.clear();
    }
  }
}

package io.fieldline.streams.internal;

import io.fieldline.core.FieldModel;
import io.fieldline.core.engine.EnginePool;
import io.fieldline.core.engine.GenerationEngine;
import io.fieldline.core.engine.SampleHandle;
import io.fieldline.core.engine.SampleTask;
import io.fieldline.server.ModelCatalog;
import io.fieldline.streams.PipelineMetrics;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generation engines of one device, shared by every stream task of the process: per model version a pool of
 * {@code workers} engines, each on its own thread with its own copy of the model (or, in tests, stepped by
 * {@link #runUntilIdle()}), so ODE work never holds a stream thread. A sample goes to the least-loaded engine of its
 * version's pool; its image does not depend on which (rows are independent of their batch-mates).
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
  private final Map<ModelCatalog.Entry, EnginePool> pools = new ConcurrentHashMap<>();
  private final List<FieldModel> copies = new ArrayList<>();

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
  }

  /** Creates a model version's engines now (loading its copies) rather than at its first sample. */
  public void prepare(ModelCatalog.Entry entry) {
    pools.computeIfAbsent(entry, this::createPool);
  }

  /** Queues a sample on the least-loaded engine of a model version (the pool is created on first use). */
  public SampleHandle submit(ModelCatalog.Entry entry, SampleTask task) {
    return pools.computeIfAbsent(entry, this::createPool).submit(task);
  }

  private EnginePool createPool(ModelCatalog.Entry e) {
    List<GenerationEngine> pool = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      FieldModel model;
      if (i == 0) {
        model = catalog.load(e);
      } else {
        model = catalog.loadCopy(e);
        synchronized (copies) {
          copies.add(model);
        }
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

  /** The device's name, e.g. {@code cpu} or {@code gpu:0}. */
  public String device() {
    return device;
  }

  /** Manual mode: steps every engine until none has work. */
  public void runUntilIdle() {
    boolean busy = true;
    while (busy) {
      busy = false;
      for (EnginePool pool : List.copyOf(pools.values())) {
        busy |= pool.runOnce() > 0;
      }
    }
  }

  @Override
  public void close() {
    pools.values().forEach(EnginePool::close);
    pools.clear();
    synchronized (copies) {
      copies.forEach(FieldModel::close);
      copies.clear();
    }
  }
}

package io.fieldline.streams.internal;

import io.fieldline.core.engine.GenerationEngine;
import io.fieldline.server.ModelCatalog;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generation engines of one device, one per model version, shared by every stream task of the process: each
 * engine runs its own thread (or, in tests, is stepped by {@link #runUntilIdle()}), so ODE work never holds a stream
 * thread.
 */
public final class DeviceEngines implements AutoCloseable {
  private final ModelCatalog catalog;
  private final String device;
  private final int maxBatch;
  private final int maxQueued;
  private final InstantSource clock;
  private final boolean threads;
  private final io.fieldline.streams.PipelineMetrics metrics;
  private final Map<ModelCatalog.Entry, GenerationEngine> engines = new ConcurrentHashMap<>();

  /**
   * @param maxQueued most samples waiting in each engine's queue (beyond it samples end REJECTED)
   * @param threads true: each engine runs on its own thread; false: the caller steps them (tests)
   */
  public DeviceEngines(ModelCatalog catalog, String device, int maxBatch, int maxQueued, InstantSource clock,
      boolean threads, io.fieldline.streams.PipelineMetrics metrics) {
    this.maxQueued = maxQueued;
    this.catalog = catalog;
    this.device = device;
    this.maxBatch = maxBatch;
    this.clock = clock;
    this.threads = threads;
    this.metrics = metrics;
  }

  /** The engine of a model version (created and started on first use). */
  public GenerationEngine engine(ModelCatalog.Entry entry) {
    return engines.computeIfAbsent(entry, e -> {
      GenerationEngine engine = GenerationEngine.builder().setModel(catalog.load(e)).optName(device + "-" + e.name())
          .optMaxBatchSize(maxBatch).optMaxQueued(maxQueued).optClock(clock).optListener(metrics.engineListener(e.name(), e.version(), device))
          .build();
      if (threads) {
        engine.start();
      }
      return engine;
    });
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
      for (GenerationEngine e : List.copyOf(engines.values())) {
        busy |= e.runOnce() > 0;
      }
    }
  }

  @Override
  public void close() {
    engines.values().forEach(GenerationEngine::close);
    engines.clear();
  }
}

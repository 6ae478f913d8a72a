package io.fieldline.core.engine;

import java.util.List;

/**
 * Several engines serving one model, each with its own copy of the model and its own thread: a sample goes to the
 * least-loaded engine ({@link GenerationEngine#load()}: waiting plus integrating). Since a row's field never depends on
 * its batch-mates, a sample's result is bitwise the same whichever engine integrates it. Priorities, deadlines and
 * cancellation act within each engine.
 *
 * <p>Why several engines rather than one engine with a multi-threaded model: on a small CPU a parallel forward pass
 * stalls whenever another thread (Kafka, the JIT, the garbage collector) takes one of its cores, while independent
 * single-threaded engines keep the other cores busy (docs/BENCHMARKS.md).
 */
public final class EnginePool implements AutoCloseable {
  private final List<GenerationEngine> engines;

  /** A pool over built (not yet started) engines; at least one. The pool owns and closes them. */
  public EnginePool(List<GenerationEngine> engines) {
    if (engines.isEmpty()) {
      throw new IllegalArgumentException("an engine pool needs at least one engine");
    }
    this.engines = List.copyOf(engines);
  }

  /** A pool of one engine per model copy, each with default settings but {@code maxBatch}. */
  public static EnginePool of(List<? extends io.fieldline.core.FieldModel> copies, int maxBatch) {
    return new EnginePool(copies.stream()
        .map(m -> GenerationEngine.builder().setModel(m).optMaxBatchSize(maxBatch).build()).toList());
  }

  /** The engines, in placement order (ties go to the first). */
  public List<GenerationEngine> engines() {
    return engines;
  }

  /** Queues a sample on the least-loaded engine. Never blocks (see {@link GenerationEngine#submit}). */
  public SampleHandle submit(SampleTask task) {
    GenerationEngine best = engines.get(0);
    int bestLoad = best.load();
    for (int i = 1; i < engines.size() && bestLoad > 0; i++) {
      int load = engines.get(i).load();
      if (load < bestLoad) {
        best = engines.get(i);
        bestLoad = load;
      }
    }
    return best.submit(task);
  }

  /** Samples waiting or running on all engines together ({@link GenerationEngine#load()}); 0 when idle. */
  public int load() {
    int load = 0;
    for (GenerationEngine e : engines) {
      load += e.load();
    }
    return load;
  }

  /** Starts every engine's thread. */
  public void start() {
    engines.forEach(GenerationEngine::start);
  }

  /**
   * Manual mode (tests): one scheduling round of every engine on the calling thread.
   *
   * @return rows evaluated in all
   */
  public int runOnce() {
    int rows = 0;
    for (GenerationEngine e : engines) {
      rows += e.runOnce();
    }
    return rows;
  }

  /** Closes every engine (their unfinished samples end CANCELLED). The models are the caller's to close. */
  @Override
  public void close() {
    engines.forEach(GenerationEngine::close);
  }
}

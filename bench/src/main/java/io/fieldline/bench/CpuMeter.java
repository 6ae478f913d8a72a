package io.fieldline.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Where the CPU went during a phase of the load harness: the engine threads ({@code fieldline-engine-*}, whose
 * native ONNX Runtime calls run on them), the other Java threads (Kafka clients and broker, streams, RocksDB calls,
 * the harness), this JVM's remaining CPU (GC, JIT and native-only threads such as RocksDB's compactions), and the
 * child processes (the registry). On a CPU-only machine every core-second the pipeline spends outside the engines is
 * one the engines do not get, so this splits the pipeline-vs-bare gap into "engines slower" and "others busier".
 */
final class CpuMeter {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** CPU seconds by consumer over a phase, the phase's wall time, and the JVM's GC pause time in it. */
  record Usage(double wall, double engines, double otherJava, double jvmRest, double children, double gcPauses,
      double jit) {
    String row(String phase, int images) {
      return String.format(Locale.ROOT, "| %s | %.1f s | %.1f s (%.0f ms/image) | %.1f s | %.1f s (JIT %.1f s, GC "
              + "pauses %.1f s) | %.1f s | %.0f%% |", phase, wall, engines, 1000 * engines / images, otherJava, jvmRest,
          jit, gcPauses, children, 100 * engines / (engines + otherJava + jvmRest + children));
    }

    static String header() {
      return "| phase | wall | engine threads | other Java threads | GC, JIT, native threads | registry process "
          + "| engines' share |\n|---|---|---|---|---|---|---|";
    }
  }

  private final long wallStart = System.nanoTime();
  private final long processStart = processCpu();
  private final long gcStart = gcMillis();
  private final long jitStart = jitMillis();
  private final long childrenStart = childrenCpu();
  private final Map<String, Long> nativeStart = nativeThreads();
  /** Thread id -> {CPU at start, CPU last seen}, names kept; sampled so threads that end mid-phase still count. */
  private final Map<Long, long[]> seen = new ConcurrentHashMap<>();
  private final Map<Long, String> names = new ConcurrentHashMap<>();
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "bench-cpu-meter");
    t.setDaemon(true);
    return t;
  });

  CpuMeter() {
    sample(true);
    sampler.scheduleAtFixedRate(() -> sample(false), 200, 200, TimeUnit.MILLISECONDS);
  }

  private void sample(boolean start) {
    long[] ids = THREADS.getAllThreadIds();
    ThreadInfo[] infos = THREADS.getThreadInfo(ids);
    for (int i = 0; i < ids.length; i++) {
      long cpu = THREADS.getThreadCpuTime(ids[i]);
      if (cpu < 0 || infos[i] == null) {
        continue;
      }
      names.putIfAbsent(ids[i], infos[i].getThreadName());
      // A thread born during the phase started at 0.
      seen.computeIfAbsent(ids[i], id -> new long[] {start ? cpu : 0, cpu})[1] = cpu;
    }
  }

  /**
   * The busiest threads of the phase, native ones included (Linux: {@code /proc/self/task}, whose names are cut to 15
   * characters), grouped by name without digits, CPU seconds. Threads that ended during the phase are missing.
   */
  String topThreads(int limit) {
    Map<String, Double> groups = new TreeMap<>();
    Map<String, Long> now = nativeThreads();
    now.forEach((k, v) -> groups.merge(k.substring(k.indexOf(' ') + 1).replaceAll("[0-9]+", "#"),
        (v - nativeStart.getOrDefault(k, 0L)) / 100.0, Double::sum)); // clock ticks of 10 ms
    StringBuilder b = new StringBuilder();
    groups.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(limit)
        .forEach(g -> b.append(String.format(Locale.ROOT, "%s %.2f s; ", g.getKey(), g.getValue())));
    return b.toString();
  }

  Usage stop() {
    sampler.shutdownNow();
    sample(false);
    double wall = (System.nanoTime() - wallStart) / 1e9;
    double process = (processCpu() - processStart) / 1e9;
    double engines = 0;
    double java = 0;
    for (Map.Entry<Long, long[]> e : seen.entrySet()) {
      double used = (e.getValue()[1] - e.getValue()[0]) / 1e9;
      if (names.get(e.getKey()).startsWith("fieldline-engine-")) {
        engines += used;
      } else {
        java += used;
      }
    }
    return new Usage(wall, engines, java, Math.max(0, process - engines - java),
        (childrenCpu() - childrenStart) / 1e9, (gcMillis() - gcStart) / 1e3,
        (jitMillis() - jitStart) / 1e3);
  }

  /** "tid name" -> utime + stime in clock ticks, for every thread of this process; empty off Linux. */
  private static Map<String, Long> nativeThreads() {
    Map<String, Long> out = new HashMap<>();
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    try (var dirs = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) dirs::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          int open = stat.indexOf('(');
          int close = stat.lastIndexOf(')');
          String[] f = stat.substring(close + 2).split(" ");
          // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
          out.put(t.getFileName() + " " + stat.substring(open + 1, close),
              Long.parseLong(f[11]) + Long.parseLong(f[12]));
        } catch (IOException | RuntimeException e) {
          // the thread ended while we listed it
        }
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  /** Total JIT compilation time of this JVM so far, in milliseconds. */
  static long jitMillis() {
    return ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
  }

  private static long gcMillis() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionTime()))
        .sum();
  }

  private static long processCpu() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static long childrenCpu() {
    return ProcessHandle.current().descendants().mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos)
        .orElse(0L)).sum();
  }
}

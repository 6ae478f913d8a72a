package io.fieldline.server;

import io.fieldline.core.FieldModel;
import io.fieldline.core.ImageShape;
import io.fieldline.core.Physics;
import io.fieldline.core.SamplerSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The models a server offers, by name: bundle directories under a models directory, plus aliases to other model
 * specifications (e.g. {@code fashion-mnist-exact -> exact:fashion-mnist}).
 *
 * <p>Layout: {@code <models>/<name>/model.json} (one version, taken from model.json) or
 * {@code <models>/<name>/<version>/model.json} (several, loaded side by side). Versions order numerically when both
 * are numbers, by text otherwise. Directory names starting with '.' are invisible, so a new version can be copied
 * under a hidden name and renamed into place atomically.
 *
 * <p>Versions without a restart: the name's directory is listed on every {@link #resolve} of a request that names no
 * version. Such a request gets the newest <em>ready</em> version: loaded, and one warm-up forward pass returned finite
 * numbers. When a newer version appears it is loaded and warmed on a background thread (the injectable executor) and
 * only then becomes the default; until then requests keep getting the previous ready version. A version that fails to
 * load or warms up to non-finite output is never promoted; the failure is reported once through the listener and the
 * version is retried when its files change (a half-copied directory). With no ready version at all (a cold start)
 * {@link #resolve} returns the newest version not known to fail and schedules its load on the warm-up thread; if that
 * load fails, the next {@link #resolve} moves on to the next version. Requests that name a version get exactly it;
 * samples already resolved keep their version, so in-flight work finishes on the version it started on.
 *
 * <p>Nothing here loads a model in the caller except {@link #load} and {@link #loadCopy}: {@link #resolve} and
 * {@link #describe} only read directories and {@code model.json}, so a Kafka Streams thread can check a request
 * without waiting for a network to load.
 *
 * <p>Security: a name must match {@code [A-Za-z0-9][A-Za-z0-9._-]{0,63}} and may not contain "..", so no request
 * can make the server read outside the models directory. Loaded models are cached until {@link #close()};
 * thread-safe.
 */
public final class ModelCatalog implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ModelCatalog.class.getName());
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** A resolved model: what to load and how to name it. */
  public record Entry(String name, String version, String spec) {}

  /**
   * What a request is checked against before its model is loaded: the physics, image shape, class names (empty for an
   * unconditional model) and the sampler a request that names none gets. Taken from the loaded model once it is
   * ready, and from the bundle's {@code model.json} until then; both say the same for a valid bundle.
   */
  public record Description(Physics physics, ImageShape shape, List<String> classes, SamplerSettings defaultSampler) {
    public Description {
      classes = List.copyOf(classes);
    }

    static Description of(FieldModel model) {
      return new Description(model.physics(), model.shape(), model.classes(), model.defaultSampler());
    }

    static Description of(ModelBundle bundle) {
      return new Description(bundle.physics(), bundle.shape(), bundle.classNames(), bundle.defaultSampler());
    }
  }

  /**
   * The load state of one version. Loads hold the slot's lock (one load per version); readers (resolve, describe,
   * isReady, the warm-up scheduling) only read the volatile fields, so a request is never held up by a load.
   */
  private static final class Slot {
    volatile FieldModel model;
    volatile String failure;
    volatile String failedFingerprint;
    final java.util.concurrent.atomic.AtomicBoolean scheduled = new java.util.concurrent.atomic.AtomicBoolean();
  }

  private final Path modelsDir;
  private final Map<String, String> aliases;
  private final Function<String, FieldModel> loader;
  private final Executor warmUps;
  private final Consumer<String> listener;
  private final Map<Entry, Slot> slots = new ConcurrentHashMap<>();

  private ModelCatalog(Builder b) {
    this.modelsDir = b.modelsDir;
    this.aliases = Map.copyOf(b.aliases);
    this.loader = b.loader;
    this.warmUps = b.warmUps != null ? b.warmUps : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "fieldline-model-warm-up");
      t.setDaemon(true);
      return t;
    });
    this.listener = b.listener;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The model names this catalog offers now: its aliases and the folders of its models directory (hidden ones and
   * invalid names left out), sorted. Whether each loads is another matter ({@link #resolve}).
   */
  public java.util.List<String> names() {
    java.util.TreeSet<String> names = new java.util.TreeSet<>(aliases.keySet());
    if (modelsDir != null && Files.isDirectory(modelsDir)) {
      try (Stream<Path> dirs = Files.list(modelsDir)) {
        dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString())
            .filter(n -> !n.startsWith(".") && isValidName(n)).forEach(names::add);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot list " + modelsDir + ": " + e.getMessage());
      }
    }
    return java.util.List.copyOf(names);
  }

  /** Whether a model name is acceptable at all (syntax only). */
  public static boolean isValidName(String name) {
    return name != null && NAME.matcher(name).matches() && !name.contains("..");
  }

  /**
   * Finds a model without loading it in the caller.
   *
   * @param version a version, or null for the newest ready one (on a cold start: the newest not known to fail, whose
   *     load is then scheduled on the warm-up thread)
   * @return the entry, or empty if no such model (or version) exists
   * @throws ModelException if the name is not acceptable, or every version of it has failed to load
   */
  public Optional<Entry> resolve(String name, String version) {
    if (!isValidName(name)) {
      throw new ModelException("invalid model name '" + name + "' (letters, digits, '.', '_', '-'; at most 64)");
    }
    if (version != null && !isValidName(version)) {
      throw new ModelException("invalid model version '" + version + "'");
    }
    String alias = aliases.get(name);
    if (alias != null) {
      return version == null || version.equals("1") ? Optional.of(new Entry(name, "1", alias)) : Optional.empty();
    }
    if (modelsDir == null) {
      return Optional.empty();
    }
    Path dir = modelsDir.resolve(name).normalize();
    if (!dir.startsWith(modelsDir.normalize()) || !Files.isDirectory(dir)) {
      return Optional.empty();
    }
    if (Files.isRegularFile(dir.resolve(ModelBundle.METADATA))) {
      String v = ModelBundle.readMetadata(dir).version(); // no hash here: resolve runs per request
      return version == null || version.equals(v) ? Optional.of(new Entry(name, v, dir.toString())) : Optional.empty();
    }
    List<String> versions = versions(dir);
    if (version != null) {
      return versions.contains(version) ? Optional.of(new Entry(name, version, dir.resolve(version).toString()))
          : Optional.empty();
    }
    if (versions.isEmpty()) {
      return Optional.empty();
    }
    List<Entry> newestFirst = new ArrayList<>();
    for (int i = versions.size() - 1; i >= 0; i--) {
      newestFirst.add(new Entry(name, versions.get(i), dir.resolve(versions.get(i)).toString()));
    }
    for (Entry e : newestFirst) {
      if (isReady(e)) {
        if (e != newestFirst.get(0)) {
          scheduleWarmUp(newestFirst.get(0)); // a newer version appeared: warm it while e keeps serving
        }
        return Optional.of(e);
      }
    }
    String last = null;
    for (Entry e : newestFirst) { // cold start: nothing ready yet; the first that may still load, loaded off-thread
      last = failure(e);
      if (last == null) {
        scheduleWarmUp(e);
        return Optional.of(e);
      }
    }
    throw new ModelException("no version of model '" + name + "' can be loaded: " + last);
  }

  /**
   * What a request for an entry is checked against, without loading it in the caller: from the loaded model when it
   * is ready, else from the bundle's {@code model.json} (and its load is scheduled on the warm-up thread).
   *
   * @throws ModelException if the version failed to load (with the reason; its files have not changed since), or it
   *     is not loaded yet and has no readable {@code model.json} to describe it (an alias such as {@code exact:...}
   *     still loading: try again shortly)
   */
  public Description describe(Entry entry) {
    FieldModel loaded = slot(entry).model;
    if (loaded != null) {
      return Description.of(loaded);
    }
    String failure = failure(entry);
    if (failure != null) {
      throw new ModelException(failure);
    }
    scheduleWarmUp(entry);
    Path dir = Path.of(entry.spec());
    if (Files.isRegularFile(dir.resolve(ModelBundle.METADATA))) {
      try {
        return Description.of(ModelBundle.readMetadata(dir));
      } catch (ModelException e) {
        throw new ModelException(label(entry) + " is still loading, and its " + ModelBundle.METADATA
            + " does not describe it: " + e.getMessage(), e);
      }
    }
    throw new ModelException(label(entry) + " is still loading; try again shortly");
  }

  /** Why a version failed to load, if it did and its files have not changed since; else null. */
  private String failure(Entry entry) {
    Slot s = slots.get(entry);
    String failure = s == null ? null : s.failure;
    return failure != null && fingerprint(entry).equals(s.failedFingerprint) ? failure : null;
  }

  /**
   * Loads and warms every alias in the caller (call it before requests arrive: an alias has no {@code model.json} to
   * describe it while it loads). A failure is recorded and reported through the listener, as for any version, and
   * {@link #describe} then refuses the alias with it; nothing is thrown.
   */
  public void loadAliases() {
    for (Map.Entry<String, String> alias : aliases.entrySet()) {
      try {
        warm(new Entry(alias.getKey(), "1", alias.getValue()));
      } catch (RuntimeException e) {
        // recorded in its slot and reported by warm()
      }
    }
  }

  /** Whether a version is loaded and warmed up. */
  public boolean isReady(Entry entry) {
    Slot s = slots.get(entry);
    return s != null && s.model != null;
  }

  private static List<String> versions(Path dir) {
    try (Stream<Path> list = Files.list(dir)) {
      List<String> out = new ArrayList<>();
      list.filter(p -> Files.isRegularFile(p.resolve(ModelBundle.METADATA)))
          .map(p -> p.getFileName().toString()).filter(ModelCatalog::isValidName).forEach(out::add);
      out.sort(VERSION_ORDER);
      return out;
    } catch (IOException e) {
      throw new ModelException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  private static final Comparator<String> VERSION_ORDER = (a, b) -> {
    if (a.matches("\\d{1,18}") && b.matches("\\d{1,18}")) {
      return Long.compare(Long.parseLong(a), Long.parseLong(b));
    }
    return a.compareTo(b);
  };

  /**
   * The model of an entry, loaded and warmed up once, then cached.
   *
   * @throws ModelException if it cannot be loaded or its warm-up output is not finite (retried only after the
   *     version's files change)
   */
  public FieldModel load(Entry entry) {
    return warm(entry);
  }

  /**
   * A further instance of an entry's model, for another engine of a pool (engines do not share a model: one
   * predictor per thread). Not cached: the caller closes it. Load the entry with {@link #load} first.
   *
   * @throws ModelException if it cannot be loaded
   */
  public FieldModel loadCopy(Entry entry) {
    load(entry); // the same checks and warm-up verdict as the cached instance
    return loader.apply(entry.spec());
  }

  private Slot slot(Entry entry) {
    return slots.computeIfAbsent(entry, e -> new Slot());
  }

  private void scheduleWarmUp(Entry entry) {
    Slot s = slot(entry);
    if (s.model != null || failure(entry) != null || !s.scheduled.compareAndSet(false, true)) {
      return;
    }
    warmUps.execute(() -> {
      try {
        warm(entry);
      } catch (RuntimeException e) {
        // reported by warm(); the previous version stays the default
      } finally {
        s.scheduled.set(false);
      }
    });
  }

  private FieldModel warm(Entry entry) {
    Slot s = slot(entry);
    FieldModel ready = s.model;
    if (ready != null) {
      return ready;
    }
    String message;
    FieldModel model = null;
    RuntimeException failure = null;
    synchronized (s) { // one load per version; requests for other versions are not held up
      if (s.model != null) {
        return s.model;
      }
      String fingerprint = fingerprint(entry);
      if (s.failure != null && fingerprint.equals(s.failedFingerprint)) {
        throw new ModelException(s.failure);
      }
      long start = System.nanoTime();
      try {
        model = loader.apply(entry.spec());
        WarmUp.check(model);
        s.model = model;
        s.failure = null;
        message = String.format(java.util.Locale.ROOT, "%s loaded and warmed up in %.1f s", label(entry),
            (System.nanoTime() - start) / 1e9);
      } catch (RuntimeException e) {
        if (model != null) {
          model.close();
        }
        s.failedFingerprint = fingerprint; // first: a reader that sees the failure sees its fingerprint
        s.failure = label(entry) + ": " + e.getMessage();
        message = label(entry) + " failed to load and is not served: " + e.getMessage()
            + " (retried when its files change)";
        failure = e instanceof ModelException me ? me : new ModelException(s.failure, e);
      }
    }
    // Outside the lock (the Caffeine habit): a slow or re-entrant listener cannot block or deadlock other loads.
    notifyListener(message);
    if (failure != null) {
      throw failure;
    }
    return model;
  }

  private void notifyListener(String message) {
    try {
      listener.accept(message);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "model catalog listener failed on: " + message, e);
    }
  }

  private static String label(Entry e) {
    return e.name() + " version " + e.version();
  }

  /** Names, sizes and modification times of a version's files: a failed version is retried when this changes. */
  private static String fingerprint(Entry entry) {
    Path dir = Path.of(entry.spec());
    if (!Files.isDirectory(dir)) {
      return entry.spec();
    }
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.sorted().toList()) {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        sb.append(p.getFileName()).append(':').append(a.size()).append(':').append(a.lastModifiedTime().toMillis())
            .append(';');
      }
    } catch (IOException e) {
      sb.append("unreadable:").append(e.getMessage());
    }
    return sb.toString();
  }

  /** Closes every loaded model. */
  @Override
  public void close() {
    for (Slot s : slots.values()) {
      synchronized (s) {
        if (s.model != null) {
          s.model.close();
          s.model = null;
        }
      }
    }
    slots.clear();
  }

  /** Builder: everything optional; a catalog with neither a directory nor aliases resolves nothing. */
  public static final class Builder {
    private Path modelsDir;
    private final Map<String, String> aliases = new LinkedHashMap<>();
    private Function<String, FieldModel> loader = ModelLoader.builder().build()::load;
    private Executor warmUps;
    private Consumer<String> listener = message -> LOG.log(System.Logger.Level.INFO, message);

    private Builder() {}

    /** The models directory (bundles by name). */
    public Builder optModelsDir(Path modelsDir) {
      this.modelsDir = modelsDir.toAbsolutePath();
      return this;
    }

    /** Makes {@code name} resolve to a model specification such as {@code exact:fashion-mnist} (version "1"). */
    public Builder optAlias(String name, String spec) {
      if (!isValidName(name)) {
        throw new IllegalArgumentException("invalid model name '" + name + "'");
      }
      aliases.put(name, Objects.requireNonNull(spec, "spec"));
      return this;
    }

    /** How models are loaded (exact-field size, device). */
    public Builder optLoader(ModelLoader loader) {
      Objects.requireNonNull(loader, "loader");
      this.loader = loader::load;
      return this;
    }

    /** How a specification becomes a model (tests substitute their own). Default: a default {@link ModelLoader}. */
    public Builder optLoader(Function<String, FieldModel> loader) {
      this.loader = Objects.requireNonNull(loader, "loader");
      return this;
    }

    /** Where new versions are loaded and warmed up. Default: one daemon thread. */
    public Builder optWarmUpExecutor(Executor warmUps) {
      this.warmUps = Objects.requireNonNull(warmUps, "warmUps");
      return this;
    }

    /**
     * Told, in one line each, when a version becomes ready or fails to load; called outside the catalog's locks, and a
     * listener that throws is logged. Default: the lines go to the System.Logger of this class (INFO).
     */
    public Builder optListener(Consumer<String> listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    public ModelCatalog build() {
      return new ModelCatalog(this);
    }
  }
}

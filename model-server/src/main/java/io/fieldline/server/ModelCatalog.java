package io.fieldline.server;

import io.fieldline.core.FieldModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The models a server offers, by name: bundle directories under a models directory, plus aliases to other model
 * specifications (e.g. {@code fashion-mnist-exact -> exact:fashion-mnist}).
 *
 * <p>Layout: {@code <models>/<name>/model.json} (one version, taken from model.json) or
 * {@code <models>/<name>/<version>/model.json} (several). A request that names no version gets the highest (numeric
 * order when both are numbers, text order otherwise).
 *
 * <p>Security: a name must match {@code [A-Za-z0-9][A-Za-z0-9._-]{0,63}} and may not contain "..", so no request
 * can make the server read outside the models directory. Loaded models are cached; thread-safe.
 */
public final class ModelCatalog implements AutoCloseable {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** A resolved model: what to load and how to name it. */
  public record Entry(String name, String version, String spec) {}

  private final Path modelsDir;
  private final Map<String, String> aliases;
  private final ModelLoader loader;
  private final Map<Entry, FieldModel> loaded = new ConcurrentHashMap<>();

  private ModelCatalog(Builder b) {
    this.modelsDir = b.modelsDir;
    this.aliases = Map.copyOf(b.aliases);
    this.loader = b.loader;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Whether a model name is acceptable at all (syntax only). */
  public static boolean isValidName(String name) {
    return name != null && NAME.matcher(name).matches() && !name.contains("..");
  }

  /**
   * Finds a model.
   *
   * @param version a version, or null for the newest
   * @return the entry, or empty if no such model (or version) exists
   * @throws ModelException if the name is not acceptable
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
    return versions.isEmpty() ? Optional.empty()
        : Optional.of(new Entry(name, versions.get(versions.size() - 1),
            dir.resolve(versions.get(versions.size() - 1)).toString()));
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

  /** The model of an entry, loaded once and cached. */
  public FieldModel load(Entry entry) {
    return loaded.computeIfAbsent(entry, e -> loader.load(e.spec()));
  }

  /** Closes every loaded model. */
  @Override
  public void close() {
    loaded.values().forEach(FieldModel::close);
    loaded.clear();
  }

  /** Builder: everything optional; a catalog with neither a directory nor aliases resolves nothing. */
  public static final class Builder {
    private Path modelsDir;
    private final Map<String, String> aliases = new LinkedHashMap<>();
    private ModelLoader loader = ModelLoader.builder().build();

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
      this.loader = Objects.requireNonNull(loader, "loader");
      return this;
    }

    public ModelCatalog build() {
      return new ModelCatalog(this);
    }
  }
}

package io.fieldline.server;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.annotations.SerializedName;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.core.Solver;
import io.fieldline.core.Physics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A model bundle: a directory with {@code model.json} (this record), {@code field.onnx} (the network, inputs
 * {@code x} [batch, N] and {@code cond} [batch], plus {@code label} int64 [batch] for a class-conditional one; output
 * {@code out} [batch, N+1 or N]) and {@code card.md}.
 *
 * <p>Loading checks the format, the physics, the shape and the SHA-256 of {@code field.onnx}, and says which check
 * failed: a bundle with one flipped byte is refused.
 *
 * @param format always {@value #FORMAT}
 * @param name the model's name (what requests ask for)
 * @param version the model's version (a positive integer as text)
 * @param kind {@code pfgm} or {@code pfgmpp}
 * @param shape image shape
 * @param physicsJson the constants, written as {@code physics} (see {@link #physics()})
 * @param network free-form description of the architecture
 * @param training free-form training summary
 * @param weightsSha256 lower-case hex SHA-256 of field.onnx
 * @param sampler optional measured preset ({@code solver}, {@code steps}, {@code rtol}, {@code atol}): what a request
 *     that names no sampler gets (see {@link #defaultSampler()}); null means the family default
 * @param classes class names in label order of a class-conditional network (field.onnx then has a third input,
 *     {@code label} int64 [batch], where index {@code classes.size()} means "no label"); null or absent for an
 *     unconditional one
 * @param precision the network's arithmetic: {@code fp32} (also when absent) or {@code int8} (a QDQ network made by
 *     {@code fieldline quantize}); informative, ONNX Runtime reads the graph as it is
 * @param rowsPerCall rows in every ONNX Runtime call (see {@link #rowsPerCall()}); absent means
 *     {@link #DEFAULT_ROWS_PER_CALL}
 */
public record ModelBundle(String format, String name, String version, String kind, ImageShape shape,
    @SerializedName("physics") JsonObject physicsJson, JsonObject network, JsonObject training, String weightsSha256,
    JsonObject sampler, java.util.List<String> classes, String precision,
    @SerializedName("rowsPerCall") Integer rowsPerCallJson) {
  /** An unconditional bundle. */
  public ModelBundle(String format, String name, String version, String kind, ImageShape shape, JsonObject physicsJson,
      JsonObject network, JsonObject training, String weightsSha256, JsonObject sampler) {
    this(format, name, version, kind, shape, physicsJson, network, training, weightsSha256, sampler, null);
  }

  /** A float32 bundle with the default rows per call. */
  public ModelBundle(String format, String name, String version, String kind, ImageShape shape, JsonObject physicsJson,
      JsonObject network, JsonObject training, String weightsSha256, JsonObject sampler,
      java.util.List<String> classes) {
    this(format, name, version, kind, shape, physicsJson, network, training, weightsSha256, sampler, classes, null,
        null);
  }

  /**
   * Rows per call ONNX Runtime gets for the float32 networks the exporter writes: where the forward rate per row
   * peaks on CPU (docs/BENCHMARKS.md).
   */
  public static final int DEFAULT_ROWS_PER_CALL = 16;
  /** The largest rows per call a bundle may ask for. */
  public static final int MAX_ROWS_PER_CALL = 1024;

  /**
   * Rows in every ONNX Runtime call of this network ({@link #DEFAULT_ROWS_PER_CALL} unless model.json says). Fixed
   * by the bundle rather than measured at load, because it is part of an image's identity: ONNX Runtime's CPU kernels
   * block by batch size, so the same row's output bits differ between calls of different sizes.
   */
  public int rowsPerCall() {
    return rowsPerCallJson == null ? DEFAULT_ROWS_PER_CALL : rowsPerCallJson;
  }

  /** The network's precision: {@code fp32} or {@code int8}. */
  public String precisionOrDefault() {
    return precision == null ? "fp32" : precision;
  }

  /**
   * This bundle as another network: a new name, version, weights hash, precision and rows per call, with a note
   * added to the network description (the physics, shape, classes, training and preset are kept).
   */
  public ModelBundle asDerived(String newName, String newVersion, String sha256, String newPrecision, int rows,
      String networkNote) {
    JsonObject net = network == null ? new JsonObject() : network.deepCopy();
    net.addProperty("derived", networkNote);
    return new ModelBundle(format, newName, newVersion, kind, shape, physicsJson, net, training, sha256, sampler,
        classes, newPrecision, rows);
  }

  /** The class names (empty for an unconditional model). */
  public java.util.List<String> classNames() {
    return classes == null ? java.util.List.of() : classes;
  }

  /** The format tag of this version of the bundle layout. */
  public static final String FORMAT = "fieldline-bundle/1";
  /** The metadata file. */
  public static final String METADATA = "model.json";
  /** The network file. */
  public static final String WEIGHTS = "field.onnx";
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

  /** Describes a physics object as JSON. */
  public static JsonObject physicsToJson(Physics physics) {
    JsonObject o = new JsonObject();
    if (physics instanceof PfgmPhysics p) {
      o.addProperty("zMax", p.zMax());
      o.addProperty("zMin", p.zMin());
      o.addProperty("upperNorm", p.upperNorm());
      o.addProperty("gamma", p.gamma());
      o.addProperty("zExp", p.zExp());
    } else {
      PfgmppPhysics p = (PfgmppPhysics) physics;
      o.addProperty("D", p.augmentedDimensions());
      o.addProperty("sigmaMax", p.sigmaMax());
      o.addProperty("sigmaMin", p.sigmaMin());
      o.addProperty("rho", p.rho());
      o.addProperty("sigmaData", p.sigmaData());
    }
    return o;
  }

  /** The physics this bundle declares. */
  public Physics physics() {
    int n = shape.size();
    try {
      if (kind.equals("pfgm")) {
        return new PfgmPhysics(n, num("zMax"), num("zMin"), num("upperNorm"), num("gamma"), num("zExp"));
      }
      if (kind.equals("pfgmpp")) {
        return new PfgmppPhysics(n, num("D"), num("sigmaMax"), num("sigmaMin"), num("rho"), num("sigmaData"));
      }
    } catch (IllegalArgumentException e) {
      throw new ModelException("model.json of " + name + " has invalid physics: " + e.getMessage(), e);
    }
    throw new ModelException("model.json of " + name + " has unknown kind '" + kind + "' (expected pfgm or pfgmpp)");
  }

  private double num(String key) {
    if (physicsJson == null || !physicsJson.has(key)) {
      throw new ModelException("model.json of " + name + " lacks physics." + key);
    }
    return physicsJson.get(key).getAsDouble();
  }

  /**
   * The sampler of requests that name none: the bundle's measured preset, else {@link SamplerSettings#defaultFor}.
   *
   * @throws ModelException when the preset is malformed (unknown solver, steps or tolerances out of range)
   */
  public SamplerSettings defaultSampler() {
    Physics p = physics();
    if (sampler == null) {
      return SamplerSettings.defaultFor(p);
    }
    try {
      return SamplerSettings.resolve(p, sampler.has("solver") ? sampler.get("solver").getAsString() : null,
          sampler.has("steps") ? sampler.get("steps").getAsInt() : null,
          sampler.has("rtol") ? sampler.get("rtol").getAsDouble() : null,
          sampler.has("atol") ? sampler.get("atol").getAsDouble() : null);
    } catch (RuntimeException e) {
      throw new ModelException("model.json of " + name + " has an invalid sampler preset " + sampler + ": "
          + e.getMessage(), e);
    }
  }

  /** This bundle with {@code preset} as its default sampler (write it to take effect; the weights' hash is kept). */
  public ModelBundle withSampler(SamplerSettings preset) {
    JsonObject o = new JsonObject();
    o.addProperty("solver", preset.solver().id());
    if (preset.solver() == Solver.RK45) {
      o.addProperty("rtol", preset.rtol());
      o.addProperty("atol", preset.atol());
    } else {
      o.addProperty("steps", preset.steps());
    }
    return new ModelBundle(format, name, version, kind, shape, physicsJson, network, training, weightsSha256, o,
        classes, precision, rowsPerCallJson);
  }

  /** Writes model.json into a directory. */
  public void write(Path dir) throws IOException {
    Files.writeString(dir.resolve(METADATA), GSON.toJson(this) + "\n", StandardCharsets.UTF_8);
  }

  /**
   * Reads and verifies a bundle directory: {@link #readMetadata} plus the SHA-256 of {@code field.onnx}. Reads the
   * whole network: do it when loading, not per request.
   *
   * @throws ModelException naming the directory and what is wrong (missing file, bad JSON, wrong format, bad
   *     physics, hash mismatch)
   */
  public static ModelBundle read(Path dir) {
    ModelBundle bundle = readMetadata(dir);
    Path weights = dir.resolve(WEIGHTS);
    String actual = sha256(weights);
    if (!actual.equals(bundle.weightsSha256)) {
      throw new ModelException("model bundle " + dir + " is corrupt: " + WEIGHTS + " has SHA-256 " + actual
          + " but model.json says " + bundle.weightsSha256);
    }
    return bundle;
  }

  /**
   * Reads model.json and checks format, shape and physics, and that {@code field.onnx} exists; no hash (cheap, for
   * catalog lookups).
   */
  public static ModelBundle readMetadata(Path dir) {
    Path meta = dir.resolve(METADATA);
    if (!Files.isRegularFile(meta)) {
      throw new ModelException(dir + " is not a model bundle: " + METADATA + " is missing");
    }
    if (!Files.isRegularFile(dir.resolve(WEIGHTS))) {
      throw new ModelException("model bundle " + dir + " is incomplete: " + WEIGHTS + " is missing");
    }
    ModelBundle bundle;
    try {
      bundle = GSON.fromJson(Files.readString(meta, StandardCharsets.UTF_8), ModelBundle.class);
    } catch (IOException | JsonParseException e) {
      throw new ModelException("cannot read " + meta + ": " + e.getMessage(), e);
    }
    if (bundle == null || !FORMAT.equals(bundle.format)) {
      throw new ModelException(meta + " is not a " + FORMAT + " file (format: "
          + (bundle == null ? "none" : bundle.format) + ")");
    }
    if (bundle.shape == null) {
      throw new ModelException(meta + " lacks the image shape");
    }
    bundle.defaultSampler(); // validates physics and the preset
    if (bundle.classes != null && (bundle.classes.isEmpty()
        || new java.util.HashSet<>(bundle.classes).size() != bundle.classes.size()
        || bundle.classes.stream().anyMatch(c -> c == null || c.isBlank()))) {
      throw new ModelException(meta + " lists classes that are empty, blank or repeated: " + bundle.classes);
    }
    if (bundle.precision != null && !bundle.precision.equals("fp32") && !bundle.precision.equals("int8")) {
      throw new ModelException(meta + " has unknown precision '" + bundle.precision + "' (expected fp32 or int8)");
    }
    if (bundle.rowsPerCallJson != null && (bundle.rowsPerCallJson < 1 || bundle.rowsPerCallJson > MAX_ROWS_PER_CALL)) {
      throw new ModelException(meta + " has rowsPerCall " + bundle.rowsPerCallJson + " (expected 1.."
          + MAX_ROWS_PER_CALL + ")");
    }
    return bundle;
  }

  /** Lower-case hex SHA-256 of a file. */
  public static String sha256(Path file) {
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      byte[] buffer = new byte[1 << 16];
      while (in.read(buffer) >= 0) {
        // digest while reading
      }
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (IOException e) {
      throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}

package io.fieldline.trainer;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.fieldline.core.FieldModel;
import io.fieldline.core.Flows;
import io.fieldline.core.ImageShape;
import io.fieldline.core.Physics;
import io.fieldline.core.SamplerSettings;
import io.fieldline.server.ModelBundle;
import io.fieldline.server.OnnxFieldModel;
import io.fieldline.trainer.internal.QdqRewriter;
import io.fieldline.trainer.internal.QdqRewriter.Candidate;
import io.fieldline.trainer.internal.QdqRewriter.Range;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Makes an int8 bundle from a float32 one (static quantization, QDQ form; see {@link QdqRewriter}).
 *
 * <ol>
 *   <li><b>Calibration inputs</b> are the network inputs met along real sampling trajectories: {@code trajectories}
 *       images drawn with the bundle's default sampler, through ONNX Runtime and the engine, every evaluation of every
 *       step recorded (so every noise level of the preset's grid is covered). A conditional model's images cycle
 *       through its classes and "no label".</li>
 *   <li><b>Ranges</b>: the min/max of every Conv/Gemm input and output over the recorded rows, except every k-th,
 *       which is held out to measure errors.</li>
 *   <li><b>Per-layer decision</b>: each Conv/Gemm is quantized alone and the network's output error measured on a
 *       held-out subset of the rows (relative L2 error against the float network); a layer stays float if its error
 *       alone exceeds {@code maxLayerError}. The decision and error of every layer go into the card.</li>
 *   <li><b>Rows per call</b>: the quantized network's forward rate on one thread is timed at 8, 16, 32 and 64 rows
 *       per call (interleaved rounds); 16 is written into model.json unless another size is clearly faster (it is
 *       part of an image's identity, so timing noise must not move it), or {@code optRowsPerCall} says.</li>
 * </ol>
 *
 * <p>The result is a complete bundle: field.onnx, model.json ({@code precision: int8}, {@code rowsPerCall}, the
 * source's physics, classes, training and preset), card.md, samples.png and the source's loss.png. Whether it may
 * replace the float network is for {@code fieldline eval} to say (the quality gate compares FD at the same sampler).
 */
public final class BundleQuantizer {
  /** Default number of calibration trajectories. */
  public static final int DEFAULT_TRAJECTORIES = 128;
  /** Default per-layer error above which a layer stays float. */
  public static final double DEFAULT_MAX_LAYER_ERROR = 0.02;
  private static final int[] ROWS_TO_TRY = {8, 16, 32, 64};
  private static final int HELD_OUT_ROWS = 512;
  private static final int TIMING_ROUNDS = 3;
  /** How much faster than the default another rows-per-call must be to be chosen. */
  static final double CLEARLY_FASTER = 1.10;
  private static final int CALIBRATION_BATCH = 64;

  private final Path source;
  private final Path out;
  private final String name;
  private final String version;
  private final int trajectories;
  private final double maxLayerError;
  private final Consumer<String> log;
  private final Integer rowsPerCall;

  private BundleQuantizer(Builder b) {
    this.rowsPerCall = b.rowsPerCall;
    this.source = b.source;
    this.out = b.out;
    this.name = b.name;
    this.version = b.version;
    this.trajectories = b.trajectories;
    this.maxLayerError = b.maxLayerError;
    this.log = b.log;
  }

  /** A builder: {@code setSource} and {@code setOut} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The decision for one layer. */
  public record Layer(String node, String op, boolean quantized, double errorAlone) {}

  /**
   * What quantization did.
   *
   * @param bundle the written bundle, read back and verified
   * @param layers every Conv/Gemm with its decision
   * @param error the whole int8 network's relative L2 output error on the held-out rows
   * @param rowsPerCall the rows per call written into model.json
   * @param rowsPerSecond forward rows/s on one thread at each tried rows per call, int8 and float
   */
  public record Report(ModelBundle bundle, List<Layer> layers, double error, int rowsPerCall,
      Map<Integer, double[]> rowsPerSecond) {}

  /**
   * Quantizes and writes the bundle.
   *
   * @throws IOException when the source cannot be read or the output written
   * @throws IllegalArgumentException when the source is already int8 or no layer can be quantized
   */
  public Report quantize() throws IOException {
    try {
      return quantizeWithOrt();
    } catch (OrtException e) {
      throw new IOException("ONNX Runtime failed: " + e.getMessage(), e);
    }
  }

  private Report quantizeWithOrt() throws IOException, OrtException {
    ModelBundle bundle = ModelBundle.read(source);
    if (bundle.precisionOrDefault().equals("int8")) {
      throw new IllegalArgumentException(source + " is already an int8 bundle");
    }
    ModelProto model = ModelProto.parseFrom(Files.readAllBytes(source.resolve(ModelBundle.WEIGHTS)));
    List<Candidate> candidates = QdqRewriter.candidates(model);
    if (candidates.isEmpty()) {
      throw new IllegalArgumentException(source.resolve(ModelBundle.WEIGHTS) + " has no Conv or Gemm with constant "
          + "weights to quantize");
    }
    Rows rows = record(bundle);
    log.accept(String.format(Locale.ROOT, "recorded %d network inputs along %d trajectories (%s)", rows.count(),
        trajectories, bundle.defaultSampler().describe()));
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    // Every k-th row is held out to measure errors; the others calibrate the ranges, so a held-out row may fall
    // outside them and be clipped, as a new request's rows may.
    int every = Math.max(2, rows.count() / HELD_OUT_ROWS);
    Rows heldOut = rows.every(every, true);
    Map<String, Range> ranges = calibrate(env, model, candidates, rows.every(every, false));
    float[] reference;
    try (OrtSession s = session(env, model, 0)) {
      reference = run(s, heldOut, 1, CALIBRATION_BATCH).get(0);
    }
    List<Layer> layers = new ArrayList<>();
    List<Candidate> accepted = new ArrayList<>();
    for (Candidate c : candidates) {
      double error;
      try {
        error = error(env, QdqRewriter.quantize(model, List.of(c), ranges), heldOut, reference);
      } catch (QdqRewriter.NotRepresentable e) {
        log.accept(c.node() + ": " + e.getMessage());
        error = Double.POSITIVE_INFINITY; // stays float
      }
      boolean ok = error <= maxLayerError;
      layers.add(new Layer(c.node(), c.op(), ok, error));
      if (ok) {
        accepted.add(c);
      }
      log.accept(String.format(Locale.ROOT, "%-14s %-4s error alone %.5f -> %s", c.node(), c.op(), error,
          ok ? "int8" : "float"));
    }
    if (accepted.isEmpty()) {
      throw new IllegalArgumentException("every layer's error alone exceeds " + maxLayerError + "; nothing quantized");
    }
    ModelProto quantized = QdqRewriter.quantize(model, accepted, ranges);
    double error = error(env, quantized, heldOut, reference);
    log.accept(String.format(Locale.ROOT, "int8 network: %d of %d layers quantized, output error %.5f",
        accepted.size(), candidates.size(), error));
    Map<Integer, double[]> speed = new LinkedHashMap<>();
    for (int r : ROWS_TO_TRY) {
      speed.put(r, new double[2]);
    }
    // Interleaved rounds, so a drifting machine moves every size alike; each size's best round counts.
    for (int round = 0; round < TIMING_ROUNDS; round++) {
      for (int r : ROWS_TO_TRY) {
        double[] v = speed.get(r);
        v[0] = Math.max(v[0], rate(env, quantized, heldOut, r));
        v[1] = Math.max(v[1], rate(env, model, heldOut, r));
      }
    }
    int best = rowsPerCall != null ? rowsPerCall : chooseRowsPerCall(speed);
    speed.forEach((r, v) -> log.accept(String.format(Locale.ROOT, "rows per call %d: int8 %.0f rows/s, float %.0f "
        + "rows/s (one thread, best of %d)", r, v[0], v[1], TIMING_ROUNDS)));
    Files.createDirectories(out);
    Files.write(out.resolve(ModelBundle.WEIGHTS), quantized.toByteArray());
    String note = String.format(Locale.ROOT, "int8 QDQ of %s@%s by fieldline quantize: %d of %d Conv/Gemm layers "
        + "int8 (per-channel symmetric weights, per-tensor uint8 activations), output error %.4f",
        bundle.name(), bundle.version(), accepted.size(), candidates.size(), error);
    ModelBundle written = bundle.asDerived(name == null ? bundle.name() + "-int8" : name, version, ModelBundle.sha256(
        out.resolve(ModelBundle.WEIGHTS)), "int8", best, note);
    written.write(out);
    if (Files.exists(source.resolve("loss.png"))) {
      Files.copy(source.resolve("loss.png"), out.resolve("loss.png"), StandardCopyOption.REPLACE_EXISTING);
    }
    try (OnnxFieldModel m = OnnxFieldModel.load(out, "cpu")) {
      BundleExporter.writeSamples(m, m.defaultSampler(), out.resolve("samples.png"));
    }
    Report report = new Report(ModelBundle.read(out), layers, error, best, speed);
    Files.writeString(out.resolve("card.md"), card(bundle, report, rows.count()));
    return report;
  }

  /**
   * The rows per call to write: {@link ModelBundle#DEFAULT_ROWS_PER_CALL} unless another size is at least
   * {@link #CLEARLY_FASTER} faster. The number fixes an image's bits, so it must not follow timing noise: re-quantizing
   * the same network on the same machine should write the same bundle.
   */
  static int chooseRowsPerCall(Map<Integer, double[]> speed) {
    int best = ModelBundle.DEFAULT_ROWS_PER_CALL;
    double base = speed.containsKey(best) ? speed.get(best)[0] : 0;
    double bestRate = base;
    for (Map.Entry<Integer, double[]> e : speed.entrySet()) {
      if (e.getValue()[0] >= base * CLEARLY_FASTER && e.getValue()[0] > bestRate) {
        best = e.getKey();
        bestRate = e.getValue()[0];
      }
    }
    return best;
  }

  /** Network inputs met along {@link #trajectories} real trajectories of the bundle's default sampler. */
  private Rows record(ModelBundle bundle) throws IOException {
    Rows rows = new Rows(bundle.shape().size());
    try (OnnxFieldModel model = OnnxFieldModel.load(source, "cpu")) {
      int classes = model.classes().size();
      FieldModel recording = new Recording(model, rows);
      Flows.sampleAll(List.of(recording), model.defaultSampler(), "calibration", 0,
          i -> classes == 0 || i % (classes + 1) == classes ? FieldModel.NO_LABEL : i % (classes + 1), trajectories,
          64, done -> { });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while recording calibration inputs", e);
    }
    return rows;
  }

  private Map<String, Range> calibrate(OrtEnvironment env, ModelProto model, List<Candidate> candidates, Rows rows)
      throws IOException, OrtException {
    List<String> taps = new ArrayList<>(QdqRewriter.tensorsToCalibrate(candidates));
    Map<String, Range> ranges = new HashMap<>();
    taps.forEach(t -> ranges.put(t, Range.empty()));
    try (OrtSession s = session(env, QdqRewriter.withTaps(model, taps), 0)) {
      for (int start = 0; start < rows.count(); start += CALIBRATION_BATCH) {
        Rows chunk = rows.slice(start, Math.min(rows.count(), start + CALIBRATION_BATCH));
        List<float[]> outputs = run(s, chunk, 1 + taps.size(), chunk.count());
        for (int t = 0; t < taps.size(); t++) {
          ranges.put(taps.get(t), ranges.get(taps.get(t)).include(outputs.get(1 + t)));
        }
      }
    }
    return ranges;
  }

  private static double error(OrtEnvironment env, ModelProto model, Rows rows, float[] reference)
      throws IOException, OrtException {
    float[] got;
    try (OrtSession s = session(env, model, 0)) {
      got = run(s, rows, 1, CALIBRATION_BATCH).get(0);
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < reference.length; i++) {
      double d = got[i] - reference[i];
      num += d * d;
      den += (double) reference[i] * reference[i];
    }
    return Math.sqrt(num / Math.max(den, Double.MIN_NORMAL));
  }

  /** Forward rows/s on one thread at {@code rowsPerCall}: warm-up, then at least one second. */
  private static double rate(OrtEnvironment env, ModelProto model, Rows rows, int rowsPerCall)
      throws IOException, OrtException {
    try (OrtSession s = session(env, model, 1)) {
      Rows chunk = rows.cycled(rowsPerCall);
      run(s, chunk, 1, rowsPerCall);
      long start = System.nanoTime();
      long done = 0;
      while (System.nanoTime() - start < 1_000_000_000L) {
        run(s, chunk, 1, rowsPerCall);
        done += rowsPerCall;
      }
      return done / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static OrtSession session(OrtEnvironment env, ModelProto model, int threads) throws IOException {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      if (threads > 0) {
        options.setIntraOpNumThreads(threads);
      }
      return env.createSession(model.toByteArray(), options);
    } catch (OrtException e) {
      throw new IOException("ONNX Runtime refused the network: " + e.getMessage(), e);
    }
  }

  /** The first {@code outputs} outputs over all rows, in calls of {@code batch} rows, concatenated per output. */
  private static List<float[]> run(OrtSession s, Rows rows, int outputs, int batch) throws IOException {
    List<List<float[]>> parts = new ArrayList<>();
    for (int o = 0; o < outputs; o++) {
      parts.add(new ArrayList<>());
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    for (int start = 0; start < rows.count(); start += batch) {
      int end = Math.min(rows.count(), start + batch);
      Map<String, OnnxTensor> inputs = new HashMap<>();
      try {
        int n = rows.dimension;
        inputs.put("x", OnnxTensor.createTensor(env, FloatBuffer.wrap(rows.x, start * n, (end - start) * n).slice(),
            new long[] {end - start, n}));
        inputs.put("cond", OnnxTensor.createTensor(env, FloatBuffer.wrap(rows.cond, start, end - start).slice(),
            new long[] {end - start}));
        if (s.getInputNames().contains("label")) {
          inputs.put("label", OnnxTensor.createTensor(env, LongBuffer.wrap(rows.label, start, end - start).slice(),
              new long[] {end - start}));
        }
        try (OrtSession.Result result = s.run(inputs)) {
          for (int o = 0; o < outputs; o++) {
            OnnxTensor t = (OnnxTensor) result.get(o);
            FloatBuffer fb = t.getFloatBuffer();
            float[] values = new float[fb.remaining()];
            fb.get(values);
            parts.get(o).add(values);
          }
        }
      } catch (OrtException e) {
        throw new IOException("ONNX Runtime failed: " + e.getMessage(), e);
      } finally {
        inputs.values().forEach(OnnxTensor::close);
      }
    }
    List<float[]> out = new ArrayList<>();
    for (List<float[]> p : parts) {
      int total = p.stream().mapToInt(a -> a.length).sum();
      float[] all = new float[total];
      int at = 0;
      for (float[] a : p) {
        System.arraycopy(a, 0, all, at, a.length);
        at += a.length;
      }
      out.add(all);
    }
    return out;
  }

  private String card(ModelBundle from, Report report, int recorded) {
    StringBuilder table = new StringBuilder("| layer | op | error alone | decision |\n|---|---|---|---|\n");
    for (Layer l : report.layers()) {
      table.append(String.format(Locale.ROOT, "| %s | %s | %.5f | %s |%n", l.node(), l.op(), l.errorAlone(),
          l.quantized() ? "int8" : "float (over " + maxLayerError + ")"));
    }
    StringBuilder speed = new StringBuilder("| rows per call | int8 rows/s | float rows/s | ratio |\n|---|---|---|---|\n");
    report.rowsPerSecond().forEach((r, v) -> speed.append(String.format(Locale.ROOT, "| %d%s | %.0f | %.0f | %.2f |%n",
        r, r == report.rowsPerCall() ? " (chosen)" : "", v[0], v[1], v[0] / v[1])));
    long kept = report.layers().stream().filter(Layer::quantized).count();
    ModelBundle b = report.bundle();
    return "# " + b.name() + " (version " + b.version() + "): int8\n\n"
        + "The int8 network of [" + from.name() + "@" + from.version() + "](../" + source.getFileName() + "/card.md), "
        + "made by `fieldline quantize` with the project's own ONNX code: static quantization in QDQ form (weights "
        + "int8, symmetric, one scale per output channel; activations uint8, asymmetric, one scale per tensor; "
        + "biases int32), which ONNX Runtime runs as QLinearConv and QGemm. Physics, classes, training and the "
        + "default sampler (" + b.defaultSampler().describe() + ") are the source's.\n\n"
        + "| | |\n|---|---|\n"
        + "| Source | " + from.name() + "@" + from.version() + ", SHA-256 " + from.weightsSha256() + " |\n"
        + "| Physics | " + b.physics().describe() + " |\n"
        + "| Calibration | " + recorded + " network inputs along " + trajectories + " trajectories of the default "
        + "sampler (seed 0" + (b.classNames().isEmpty() ? "" : ", classes and \"no label\" in turn") + ") |\n"
        + String.format(Locale.ROOT, "| Layers | %d of %d Conv/Gemm int8; a layer stays float if its output error "
            + "alone exceeds %s |%n", kept, report.layers().size(), maxLayerError)
        + String.format(Locale.ROOT, "| Output error | %.5f (relative L2 against the float network, held-out "
            + "rows) |%n", report.error())
        + "| Rows per call | " + report.rowsPerCall() + " (16 unless another size is over 10% faster on one thread, "
        + "below; fixed in model.json) |\n"
        + "| Weights | field.onnx, SHA-256 " + b.weightsSha256() + " |\n\n"
        + "Command:\n\n```bash\nfieldline quantize " + source + " --out " + out + " --trajectories " + trajectories
        + " --max-layer-error " + maxLayerError + "\n```\n\n"
        + "## Samples\n\n![samples, seed 0, default sampler](samples.png)\n\n"
        + "## Layers\n\n" + table + "\n"
        + "## Speed (measured while quantizing)\n\n" + speed + "\n"
        + "## Quality\n\nNot evaluated yet: run `fieldline eval --model <this directory>` at the source's sampler; "
        + "the int8 network may replace the float one only if its FD is within 5% of the float network's at "
        + "n = 2000.\n";
  }

  /** Network inputs as ONNX Runtime takes them: x row-major [count, n], cond [count], label [count]. */
  private static final class Rows {
    final int dimension;
    float[] x = new float[0];
    float[] cond = new float[0];
    long[] label = new long[0];
    int count;

    Rows(int dimension) {
      this.dimension = dimension;
    }

    int count() {
      return count;
    }

    synchronized void add(double[] row, double c, long l) {
      if (count == cond.length) {
        int capacity = Math.max(256, count * 2);
        x = java.util.Arrays.copyOf(x, capacity * dimension);
        cond = java.util.Arrays.copyOf(cond, capacity);
        label = java.util.Arrays.copyOf(label, capacity);
      }
      for (int k = 0; k < dimension; k++) {
        x[count * dimension + k] = (float) row[k];
      }
      cond[count] = (float) c;
      label[count] = l;
      count++;
    }

    /** The rows at {@code indices}, in that order (an index may repeat). */
    Rows pick(int[] indices) {
      Rows r = new Rows(dimension);
      r.x = new float[indices.length * dimension];
      r.cond = new float[indices.length];
      r.label = new long[indices.length];
      for (int j = 0; j < indices.length; j++) {
        System.arraycopy(x, indices[j] * dimension, r.x, j * dimension, dimension);
        r.cond[j] = cond[indices[j]];
        r.label[j] = label[indices[j]];
      }
      r.count = indices.length;
      return r;
    }

    Rows slice(int from, int to) {
      return pick(java.util.stream.IntStream.range(from, to).toArray());
    }

    /** Every {@code step}-th row ({@code picked}), or all the others (not {@code picked}). */
    Rows every(int step, boolean picked) {
      return pick(java.util.stream.IntStream.range(0, count).filter(i -> (i % step == 0) == picked).toArray());
    }

    /** The first {@code rows} rows, starting over from the first when there are fewer (for timing a full call). */
    Rows cycled(int rows) {
      return pick(java.util.stream.IntStream.range(0, rows).map(i -> i % count).toArray());
    }
  }

  /** A float model that records every row it is asked to evaluate, in ONNX Runtime's label convention. */
  private static final class Recording implements FieldModel {
    private final OnnxFieldModel model;
    private final Rows rows;

    Recording(OnnxFieldModel model, Rows rows) {
      this.model = model;
      this.rows = rows;
    }

    @Override
    public String name() {
      return model.name();
    }

    @Override
    public Physics physics() {
      return model.physics();
    }

    @Override
    public ImageShape shape() {
      return model.shape();
    }

    @Override
    public List<String> classes() {
      return model.classes();
    }

    @Override
    public SamplerSettings defaultSampler() {
      return model.defaultSampler();
    }

    @Override
    public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
      evaluate(x, cond, null, out, count);
    }

    @Override
    public void evaluate(double[][] x, double[] cond, int[] labels, double[][] out, int count) {
      for (int i = 0; i < count; i++) {
        int l = labels == null ? NO_LABEL : labels[i];
        rows.add(x[i], cond[i], l == NO_LABEL ? model.classes().size() : l);
      }
      model.evaluate(x, cond, labels, out, count);
    }
  }

  /** Builds a {@link BundleQuantizer}. */
  public static final class Builder {
    private Path source;
    private Path out;
    private String name;
    private String version = "1";
    private int trajectories = DEFAULT_TRAJECTORIES;
    private double maxLayerError = DEFAULT_MAX_LAYER_ERROR;
    private Consumer<String> log = line -> { };
    private Integer rowsPerCall;

    private Builder() {}

    /**
     * Rows per ONNX Runtime call to write into model.json, 1..{@link ModelBundle#MAX_ROWS_PER_CALL} (default: timed,
     * see {@link #chooseRowsPerCall}).
     */
    public Builder optRowsPerCall(int rowsPerCall) {
      if (rowsPerCall < 1 || rowsPerCall > ModelBundle.MAX_ROWS_PER_CALL) {
        throw new IllegalArgumentException("rows per call must be in 1.." + ModelBundle.MAX_ROWS_PER_CALL + ", got "
            + rowsPerCall);
      }
      this.rowsPerCall = rowsPerCall;
      return this;
    }

    /** The float32 bundle directory to quantize (required). */
    public Builder setSource(Path source) {
      this.source = source;
      return this;
    }

    /** The int8 bundle directory to write (required; created). */
    public Builder setOut(Path out) {
      this.out = out;
      return this;
    }

    /** The int8 model's name (default: the source's name + "-int8"). */
    public Builder optName(String name) {
      this.name = name;
      return this;
    }

    /** The int8 model's version (default "1"). */
    public Builder optVersion(String version) {
      this.version = version;
      return this;
    }

    /** Calibration trajectories, 1..100,000 (default {@value #DEFAULT_TRAJECTORIES}). */
    public Builder optTrajectories(int trajectories) {
      if (trajectories < 1 || trajectories > 100_000) {
        throw new IllegalArgumentException("trajectories must be in 1..100000, got " + trajectories);
      }
      this.trajectories = trajectories;
      return this;
    }

    /** A layer stays float if its output error alone exceeds this (relative L2, > 0; default 0.02). */
    public Builder optMaxLayerError(double maxLayerError) {
      if (!(maxLayerError > 0 && maxLayerError < 10)) {
        throw new IllegalArgumentException("max layer error must be in (0, 10), got " + maxLayerError);
      }
      this.maxLayerError = maxLayerError;
      return this;
    }

    /** Where progress lines go (default: nowhere). */
    public Builder optLog(Consumer<String> log) {
      this.log = log;
      return this;
    }

    public BundleQuantizer build() {
      if (source == null || out == null) {
        throw new IllegalStateException("setSource and setOut are required");
      }
      if (source.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
        throw new IllegalArgumentException("--out must differ from the source bundle " + source);
      }
      return new BundleQuantizer(this);
    }
  }
}

package io.fieldline.server;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.Model;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtTensorRTProviderOptions;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import io.fieldline.core.FieldModel;
import io.fieldline.core.ImageShape;
import io.fieldline.core.Physics;
import io.fieldline.core.SamplerSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A trained field network from a {@link ModelBundle}, run by DJL's ONNX Runtime engine.
 *
 * <p>Devices: {@code cpu} (default), {@code cuda[:N]} (the CUDA execution provider) and {@code tensorrt[:N]}.
 * The GPU providers need ONNX Runtime's GPU build on the classpath and an NVIDIA GPU; without them loading fails
 * with a {@link ModelException} that says so. One predictor per instance: call {@link #evaluate} from one thread
 * (the engine's device thread). Rows are copied to float32 and back, and go to ONNX Runtime in calls of exactly
 * {@link #rowsPerCall()} rows, so a row's output is bitwise the same whatever it is batched with.
 */
public final class OnnxFieldModel implements FieldModel {
  private final ModelBundle bundle;
  private final Physics physics;
  private final String name;
  private final Model model;
  /** Session options this instance made (TensorRT's), closed with it; null when DJL's own were used. */
  private final OrtSession.SessionOptions ownOptions;
  private final Predictor<NDList, NDList> predictor;
  private final int n;
  private final int outDim;
  private final java.util.List<String> classes;
  private final int rowsPerCall;

  private OnnxFieldModel(ModelBundle bundle, Model model, OrtSession.SessionOptions ownOptions) {
    this.ownOptions = ownOptions;
    this.bundle = bundle;
    this.physics = bundle.physics();
    this.name = bundle.name() + "@" + bundle.version();
    this.model = model;
    this.predictor = model.newPredictor(new NoopTranslator());
    this.n = physics.dimension();
    this.outDim = physics.outputDimension();
    this.classes = bundle.classNames();
    this.rowsPerCall = bundle.rowsPerCall();
  }

  /** Loads and verifies a bundle directory onto a device ({@code cpu}, {@code cuda[:N]}, {@code tensorrt[:N]}). */
  public static OnnxFieldModel load(Path dir, String device) {
    return load(dir, device, 0);
  }

  /**
   * Loads and verifies a bundle directory onto a device, with {@code intraOpThreads} threads per forward pass on the
   * CPU (0: ONNX Runtime's default, one per core; 1 for one of several engines that each own a core).
   */
  public static OnnxFieldModel load(Path dir, String device, int intraOpThreads) {
    return load(dir, ExecutionDevice.parse(device, null), intraOpThreads);
  }

  /**
   * Loads and verifies a bundle directory onto a device (see {@link ExecutionDevice} for its execution providers).
   *
   * @throws ModelException when the bundle is not valid, or the device's provider is missing from this build of ONNX
   *     Runtime or finds no GPU (the message says which)
   */
  public static OnnxFieldModel load(Path dir, ExecutionDevice device, int intraOpThreads) {
    ModelBundle bundle = ModelBundle.read(dir);
    Map<String, Object> options = new HashMap<>();
    if (intraOpThreads > 0) {
      options.put("intraOpNumThreads", Integer.toString(intraOpThreads));
    }
    OrtSession.SessionOptions tensorRt = null;
    Model model = Model.newInstance(bundle.name(), device.isGpu() ? Device.gpu(device.gpu()) : Device.cpu(),
        "OnnxRuntime");
    try {
      if (device.kind().equals("tensorrt")) {
        // Our own session options carry TensorRT with its cache settings; DJL then appends CUDA for a GPU device, so
        // nodes TensorRT does not take run on CUDA, and the CPU remains ONNX Runtime's last resort.
        tensorRt = new OrtSession.SessionOptions();
        if (device.tensorRtCache() != null) {
          java.nio.file.Files.createDirectories(device.tensorRtCache());
        }
        try (OrtTensorRTProviderOptions trt = new OrtTensorRTProviderOptions(device.gpu())) {
          for (Map.Entry<String, String> e : device.tensorRtOptions().entrySet()) {
            trt.add(e.getKey(), e.getValue());
          }
          tensorRt.addTensorrt(trt);
        }
        options.put("sessionOptions", tensorRt);
      }
      model.load(dir.resolve(ModelBundle.WEIGHTS), null, options);
      return new OnnxFieldModel(bundle, model, tensorRt);
    } catch (MalformedModelException | IOException | OrtException | RuntimeException | LinkageError e) {
      model.close();
      if (tensorRt != null) {
        tensorRt.close();
      }
      String hint = device.isGpu() ? " (the " + device + " execution provider needs ONNX Runtime's GPU build "
          + "(com.microsoft.onnxruntime:onnxruntime_gpu) and an NVIDIA GPU; this one may lack either)" : "";
      throw new ModelException("cannot load " + dir.resolve(ModelBundle.WEIGHTS) + " on " + device + ": "
          + e.getMessage() + hint, e);
    }
  }

  /** The bundle's metadata. */
  public ModelBundle bundle() {
    return bundle;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Physics physics() {
    return physics;
  }

  @Override
  public ImageShape shape() {
    return bundle.shape();
  }

  @Override
  public SamplerSettings defaultSampler() {
    return bundle.defaultSampler();
  }

  /**
   * Rows per ONNX Runtime call of the float32 networks the exporter writes; a bundle may name its own
   * ({@link ModelBundle#rowsPerCall()}, e.g. an int8 network). Every call has exactly {@link #rowsPerCall()} rows (the
   * last chunk padded), because ONNX Runtime's CPU kernels pick their blocking by batch size: a row's output bits
   * differ between a call of 1 row and one of 16 (measured: 2,318 of 12,544 values), while at a fixed size they
   * depend neither on the row's position nor on its batch-mates. A fixed size therefore makes an image independent of
   * what it was batched with. 16 is also where the float forward rate per row peaks on CPU (docs/BENCHMARKS.md).
   */
  public static final int ROWS_PER_CALL = ModelBundle.DEFAULT_ROWS_PER_CALL;

  /** Rows in every ONNX Runtime call of this network (the bundle's, see {@link ModelBundle#rowsPerCall()}). */
  @Override
  public int rowsPerCall() {
    return rowsPerCall;
  }

  @Override
  public java.util.List<String> classes() {
    return classes;
  }

  @Override
  public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
    evaluate(x, cond, null, out, count);
  }

  /**
   * {@inheritDoc} A conditional network gets {@code label} = the class index, or {@code classes().size()} for
   * {@link #NO_LABEL}.
   */
  @Override
  public void evaluate(double[][] x, double[] cond, int[] labels, double[][] out, int count) {
    if (labels != null) {
      FieldModel.checkLabels(this, labels, count);
    }
    float[] flat = new float[rowsPerCall * n];
    float[] c = new float[rowsPerCall];
    long[] l = new long[rowsPerCall];
    for (int start = 0; start < count; start += rowsPerCall) {
      int rows = Math.min(rowsPerCall, count - start);
      java.util.Arrays.fill(flat, rows * n, flat.length, 0f); // padding rows: a zero image at cond 1, no label
      java.util.Arrays.fill(c, rows, c.length, 1f);
      java.util.Arrays.fill(l, classes.size());
      for (int i = 0; i < rows; i++) {
        double[] row = x[start + i];
        for (int k = 0; k < n; k++) {
          flat[i * n + k] = (float) row[k];
        }
        c[i] = (float) cond[start + i];
        if (labels != null && labels[start + i] != NO_LABEL) {
          l[i] = labels[start + i];
        }
      }
      try (NDManager manager = model.getNDManager().newSubManager()) {
        NDArray xs = manager.create(flat, new Shape(rowsPerCall, n));
        xs.setName("x");
        NDArray cs = manager.create(c, new Shape(rowsPerCall));
        cs.setName("cond");
        NDList inputs = new NDList(xs, cs);
        if (!classes.isEmpty()) {
          NDArray ls = manager.create(l, new Shape(rowsPerCall));
          ls.setName("label");
          inputs.add(ls);
        }
        float[] result = predictor.predict(inputs).get(0).toFloatArray();
        for (int i = 0; i < rows; i++) {
          double[] row = out[start + i];
          for (int k = 0; k < outDim; k++) {
            row[k] = result[i * outDim + k];
          }
        }
      } catch (TranslateException e) {
        throw new IllegalStateException("ONNX Runtime failed on a batch of " + count + ": " + e.getMessage(), e);
      }
    }
  }

  @Override
  public void close() {
    predictor.close();
    model.close();
    if (ownOptions != null) {
      ownOptions.close();
    }
  }
}

package io.fieldline.trainer.internal;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Static int8 quantization of a float ONNX graph in QDQ form, written by hand over the ONNX protobuf classes.
 *
 * <p>A quantized Conv or Gemm reads its activation through QuantizeLinear/DequantizeLinear (uint8, asymmetric, one
 * scale per tensor, from calibrated min/max), its weight through DequantizeLinear of an int8 initializer (symmetric,
 * one scale per output channel), its bias through DequantizeLinear of an int32 initializer at scale
 * {@code activation scale x weight scale}, and writes its output through QuantizeLinear/DequantizeLinear too. That is
 * the pattern ONNX Runtime's graph optimiser fuses into QLinearConv and QGemm (u8s8 kernels, VNNI on this CPU); the
 * DequantizeLinear of the output gives every other consumer the float tensor it read before, so the rest of the graph
 * (GroupNorm, SiLU, attention, the label embedding) is unchanged and stays float.
 *
 * <p>Only nodes whose weight (and bias) are initializers are candidates: the network's convolutions and linear layers.
 */
public final class QdqRewriter {
  /** uint8 activation range quantized to. */
  private static final int QMAX_U8 = 255;
  /**
   * Symmetric int8 weights use -127..127 (not -128), so the scale is symmetric and negation exact. (On AVX2 without
   * VNNI, ONNX Runtime's u8 x s8 kernels can saturate pairwise sums at int16; VNNI accumulates in int32. The quality
   * gate was measured on a VNNI CPU.)
   */
  private static final int QMAX_S8 = 127;

  private QdqRewriter() {}

  /** A layer whose quantized form cannot represent it (a bias beyond int32 at its scale): keep it float. */
  public static final class NotRepresentable extends IllegalArgumentException {
    NotRepresentable(String message) {
      super(message);
    }
  }

  /** The calibrated range of a float tensor; {@link #scale()} and {@link #zeroPoint()} of its uint8 encoding. */
  public record Range(float min, float max) {
    /** Widens to include 0 (so zero, e.g. padding, is exact) and returns the uint8 step. */
    public float scale() {
      float lo = Math.min(0f, min);
      float hi = Math.max(0f, max);
      float s = (hi - lo) / QMAX_U8;
      return s > 0 && Float.isFinite(s) ? s : 1f;
    }

    /** The uint8 code of 0. */
    public int zeroPoint() {
      return Math.max(0, Math.min(QMAX_U8, Math.round(-Math.min(0f, min) / scale())));
    }

    /** This range widened to include {@code values}. */
    public Range include(float[] values) {
      float lo = min;
      float hi = max;
      for (float v : values) {
        if (v < lo) {
          lo = v;
        }
        if (v > hi) {
          hi = v;
        }
      }
      return new Range(lo, hi);
    }

    /** The empty range (includes nothing yet). */
    public static Range empty() {
      return new Range(Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
    }
  }

  /**
   * A Conv or Gemm that can be quantized: its node name (unique in the exporter's graphs), op type, activation input,
   * and output.
   */
  public record Candidate(String node, String op, String input, String output) {}

  /** The graph's Conv and Gemm nodes whose weight and bias are initializers, in graph order. */
  public static List<Candidate> candidates(ModelProto model) {
    Set<String> initializers = new java.util.HashSet<>();
    model.getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
    List<Candidate> out = new ArrayList<>();
    for (NodeProto n : model.getGraph().getNodeList()) {
      boolean op = n.getOpType().equals("Conv") || n.getOpType().equals("Gemm");
      if (op && n.getInputCount() == 3 && initializers.contains(n.getInput(1)) && initializers.contains(n.getInput(2))
          && !initializers.contains(n.getInput(0)) && n.getOutputCount() == 1 && gemmTransB(n)) {
        out.add(new Candidate(n.getName(), n.getOpType(), n.getInput(0), n.getOutput(0)));
      }
    }
    return out;
  }

  /** A Gemm qualifies only as the exporter writes it: y = x W^T + b (transB = 1, no alpha/beta/transA). */
  private static boolean gemmTransB(NodeProto n) {
    if (!n.getOpType().equals("Gemm")) {
      return true;
    }
    boolean transB = false;
    for (var a : n.getAttributeList()) {
      switch (a.getName()) {
        case "transB" -> transB = a.getI() == 1;
        case "transA" -> {
          if (a.getI() != 0) {
            return false;
          }
        }
        case "alpha", "beta" -> {
          if (a.getF() != 1f) {
            return false;
          }
        }
        default -> { }
      }
    }
    return transB;
  }

  /** The tensors whose ranges {@link #quantize} needs for {@code nodes}: their inputs and outputs. */
  public static Set<String> tensorsToCalibrate(List<Candidate> nodes) {
    Set<String> out = new LinkedHashSet<>();
    for (Candidate c : nodes) {
      out.add(c.input());
      out.add(c.output());
    }
    return out;
  }

  /** The model with {@code tensors} added as extra float graph outputs (after the original ones), for calibration. */
  public static ModelProto withTaps(ModelProto model, Iterable<String> tensors) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    Set<String> existing = new java.util.HashSet<>();
    g.getOutputList().forEach(o -> existing.add(o.getName()));
    for (String t : tensors) {
      if (existing.add(t)) {
        g.addOutput(ValueInfoProto.newBuilder().setName(t).setType(TypeProto.newBuilder()
            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT.getNumber()))));
      }
    }
    return model.toBuilder().setGraph(g).build();
  }

  /**
   * The model with {@code nodes} quantized (see the class comment); every other node is kept as it is.
   *
   * @param ranges calibrated ranges of every tensor in {@link #tensorsToCalibrate}
   * @throws NotRepresentable when a node's bias does not fit int32 at its scale (keep that node float)
   * @throws IllegalArgumentException when a node is not a candidate or a range is missing or not finite
   */
  public static ModelProto quantize(ModelProto model, List<Candidate> nodes, Map<String, Range> ranges) {
    Map<String, Candidate> byNode = new HashMap<>();
    for (Candidate c : nodes) {
      byNode.put(c.node(), c);
      for (String t : List.of(c.input(), c.output())) {
        Range r = ranges.get(t);
        if (r == null || !Float.isFinite(r.min()) || !Float.isFinite(r.max())) {
          throw new IllegalArgumentException("no finite calibrated range for " + t + " (input or output of "
              + c.node() + "): " + r);
        }
      }
    }
    GraphProto source = model.getGraph();
    Map<String, TensorProto> initializers = new HashMap<>();
    source.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
    Set<String> replaced = new java.util.HashSet<>();
    GraphProto.Builder g = source.toBuilder().clearNode();
    List<TensorProto> added = new ArrayList<>();
    Map<String, String> dequantized = new HashMap<>(); // float tensor -> its Q/DQ copy, made once
    for (NodeProto n : source.getNodeList()) {
      Candidate c = byNode.remove(n.getName());
      if (c == null) {
        g.addNode(n);
        continue;
      }
      if (!n.getOpType().equals(c.op()) || !n.getInput(0).equals(c.input()) || !n.getOutput(0).equals(c.output())) {
        throw new IllegalArgumentException(c + " does not match node " + n.getName() + " of the graph");
      }
      Range in = ranges.get(c.input());
      String x = dequantized.get(c.input());
      if (x == null) {
        x = qdq(g, added, c.input(), c.input() + "_dq", in);
        dequantized.put(c.input(), x);
      }
      TensorProto w = initializers.get(n.getInput(1));
      TensorProto b = initializers.get(n.getInput(2));
      float[] weight = floats(w);
      float[] bias = floats(b);
      int channels = (int) w.getDims(0);
      if (bias.length != channels || weight.length % channels != 0) {
        throw new IllegalArgumentException(n.getName() + ": weight " + w.getDimsList() + " and bias "
            + b.getDimsList() + " do not match");
      }
      int per = weight.length / channels;
      float[] wScale = new float[channels];
      byte[] wq = new byte[weight.length];
      int[] bq = new int[channels];
      float[] bScale = new float[channels];
      for (int ch = 0; ch < channels; ch++) {
        float absMax = 0;
        for (int k = 0; k < per; k++) {
          absMax = Math.max(absMax, Math.abs(weight[ch * per + k]));
        }
        wScale[ch] = absMax > 0 ? absMax / QMAX_S8 : 1f;
        for (int k = 0; k < per; k++) {
          int q = Math.round(weight[ch * per + k] / wScale[ch]);
          wq[ch * per + k] = (byte) Math.max(-QMAX_S8, Math.min(QMAX_S8, q));
        }
        bScale[ch] = in.scale() * wScale[ch];
        long q = Math.round((double) bias[ch] / bScale[ch]);
        if (q < Integer.MIN_VALUE + 1L || q > Integer.MAX_VALUE) {
          throw new NotRepresentable("bias " + bias[ch] + " of channel " + ch + " does not fit int32 at scale "
              + bScale[ch] + " (activation scale x weight scale)");
        }
        bq[ch] = (int) q;
      }
      String base = n.getName();
      added.add(int8(base + "_w_q", wq, w.getDimsList()));
      added.add(OnnxGraph.floatTensor(base + "_w_scale", wScale, channels));
      added.add(int8(base + "_w_zp", new byte[channels], List.of((long) channels)));
      added.add(int32(base + "_b_q", bq));
      added.add(OnnxGraph.floatTensor(base + "_b_scale", bScale, channels));
      added.add(int32(base + "_b_zp", new int[channels]));
      g.addNode(node("DequantizeLinear", List.of(base + "_w_q", base + "_w_scale", base + "_w_zp"), base + "_w_dq",
          true));
      g.addNode(node("DequantizeLinear", List.of(base + "_b_q", base + "_b_scale", base + "_b_zp"), base + "_b_dq",
          true));
      replaced.add(n.getInput(1));
      replaced.add(n.getInput(2));
      String raw = c.output() + "_f";
      g.addNode(n.toBuilder().setInput(0, x).setInput(1, base + "_w_dq").setInput(2, base + "_b_dq")
          .setOutput(0, raw).build());
      qdq(g, added, raw, c.output(), ranges.get(c.output()));
      dequantized.put(c.output(), c.output()); // already a DequantizeLinear output: consumers reuse it as it is
    }
    if (!byNode.isEmpty()) {
      throw new IllegalArgumentException("not nodes of this graph: " + byNode.keySet());
    }
    g.clearInitializer();
    for (TensorProto t : source.getInitializerList()) {
      if (!replaced.contains(t.getName()) || stillUsed(g, t.getName())) {
        g.addInitializer(t);
      }
    }
    g.addAllInitializer(added);
    return model.toBuilder().setGraph(g).build();
  }

  private static boolean stillUsed(GraphProto.Builder g, String name) {
    for (NodeProto n : g.getNodeList()) {
      if (n.getInputList().contains(name)) {
        return true;
      }
    }
    return false;
  }

  /** QuantizeLinear then DequantizeLinear of float tensor {@code x} into {@code out}; returns {@code out}. */
  private static String qdq(GraphProto.Builder g, List<TensorProto> added, String x, String out, Range range) {
    String scale = out + "_scale";
    String zp = out + "_zp";
    added.add(OnnxGraph.floatTensor(scale, new float[] {range.scale()}));
    added.add(TensorProto.newBuilder().setName(zp).setDataType(TensorProto.DataType.UINT8.getNumber())
        .setRawData(ByteString.copyFrom(new byte[] {(byte) range.zeroPoint()})).build());
    g.addNode(node("QuantizeLinear", List.of(x, scale, zp), out + "_q", false));
    g.addNode(node("DequantizeLinear", List.of(out + "_q", scale, zp), out, false));
    return out;
  }

  private static NodeProto node(String op, List<String> inputs, String output, boolean perChannel) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + ":" + output).addAllInput(inputs).addOutput(output);
    if (perChannel) {
      n.addAttribute(OnnxGraph.integer("axis", 0));
    }
    return n.build();
  }

  /** The values of a float initializer (raw little-endian data or float_data). */
  public static float[] floats(TensorProto t) {
    if (t.getDataType() != TensorProto.DataType.FLOAT.getNumber()) {
      throw new IllegalArgumentException(t.getName() + " is not a float tensor");
    }
    if (!t.getRawData().isEmpty()) {
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[b.remaining() / 4];
      b.asFloatBuffer().get(out);
      return out;
    }
    float[] out = new float[t.getFloatDataCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.getFloatData(i);
    }
    return out;
  }

  private static TensorProto int8(String name, byte[] values, List<Long> dims) {
    return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT8.getNumber())
        .addAllDims(dims).setRawData(ByteString.copyFrom(values)).build();
  }

  private static TensorProto int32(String name, int[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asIntBuffer().put(values);
    return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT32.getNumber())
        .addDims(values.length).setRawData(ByteString.copyFrom(bytes.array())).build();
  }
}

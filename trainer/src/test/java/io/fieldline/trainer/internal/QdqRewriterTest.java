package io.fieldline.trainer.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.fieldline.trainer.internal.QdqRewriter.Candidate;
import io.fieldline.trainer.internal.QdqRewriter.Range;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The QDQ rewrite against a hand computation of the same integer arithmetic in double. */
class QdqRewriterTest {
  private static final int IN = 6;
  private static final int OUT = 4;

  @Test
  void shouldEncodeZeroExactlyAndCoverTheCalibratedRange() {
    Range r = new Range(-0.3f, 1.7f);
    assertEquals(2.0f / 255, r.scale(), 1e-7);
    assertEquals(Math.round(0.3f / r.scale()), r.zeroPoint());
    assertEquals(r.zeroPoint(), quant(0f, r), "zero has a code of its own, so padding stays exactly zero");
    // Both ends of the range are representable to half a step.
    assertEquals(-0.3f, (quant(-0.3f, r) - r.zeroPoint()) * r.scale(), r.scale() / 2 + 1e-6);
    assertEquals(1.7f, (quant(1.7f, r) - r.zeroPoint()) * r.scale(), r.scale() / 2 + 1e-6);
    Range positive = new Range(0.5f, 2f); // widened to include 0: zero point 0
    assertEquals(0, positive.zeroPoint());
    assertEquals(2f / 255, positive.scale(), 1e-7);
    assertEquals(1f, new Range(0f, 0f).scale(), "a constant-zero tensor still gets a usable scale");
    assertEquals(new Range(-2f, 3f), Range.empty().include(new float[] {1f, -2f, 3f}));
  }

  @Test
  void shouldComputeWhatTheIntegerArithmeticGivesForAGemm() throws Exception {
    Random random = new Random(3);
    float[] w = new float[OUT * IN];
    float[] b = new float[OUT];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (random.nextGaussian() * (1 + i / IN)); // rows of different scales: per-channel matters
    }
    for (int i = 0; i < OUT; i++) {
      b[i] = (float) random.nextGaussian();
    }
    OnnxGraph g = new OnnxGraph("gemm");
    String x = g.input("x", "batch", IN);
    String y = g.op("Gemm", List.of(x, g.floats("w", w, OUT, IN), g.floats("b", b, OUT)),
        OnnxGraph.integer("transB", 1));
    g.opInto("Relu", List.of(y), "out");
    g.output("out", "batch", OUT);
    ModelProto model = g.model("test", "test");
    List<Candidate> candidates = QdqRewriter.candidates(model);
    assertEquals(1, candidates.size());
    Candidate gemm = candidates.get(0);
    assertEquals(x, gemm.input());

    int rows = 5;
    float[] input = new float[rows * IN];
    for (int i = 0; i < input.length; i++) {
      input[i] = (float) (random.nextGaussian() * 0.7 + 0.2);
    }
    float[] gemmOut = new float[rows * OUT];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < OUT; o++) {
        double s = b[o];
        for (int k = 0; k < IN; k++) {
          s += input[r * IN + k] * w[o * IN + k];
        }
        gemmOut[r * OUT + o] = (float) s;
      }
    }
    Range inRange = Range.empty().include(input);
    Range outRange = Range.empty().include(gemmOut);
    ModelProto q = QdqRewriter.quantize(model, candidates, Map.of(gemm.input(), inRange, gemm.output(), outRange));

    // The reference: the same quantization done by hand, the sum in double.
    float[] expected = new float[rows * OUT];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < OUT; o++) {
        double absMax = 0;
        for (int k = 0; k < IN; k++) {
          absMax = Math.max(absMax, Math.abs(w[o * IN + k]));
        }
        float ws = (float) (absMax / 127);
        double s = Math.round(b[o] / (inRange.scale() * ws)) * (double) (inRange.scale() * ws);
        for (int k = 0; k < IN; k++) {
          double xq = (quant(input[r * IN + k], inRange) - inRange.zeroPoint()) * (double) inRange.scale();
          s += xq * Math.round(w[o * IN + k] / ws) * ws;
        }
        double yq = (quant((float) s, outRange) - outRange.zeroPoint()) * (double) outRange.scale();
        expected[r * OUT + o] = (float) Math.max(0, yq);
      }
    }
    float[] got = run(q, input, rows);
    for (int i = 0; i < got.length; i++) {
      // One output step: ORT's int8 kernel may round the requantized sum the other way at a tie.
      assertEquals(expected[i], got[i], outRange.scale() * 1.01, "output " + i);
    }
    float[] plain = run(model, input, rows);
    boolean differs = false;
    for (int i = 0; i < got.length; i++) {
      differs |= got[i] != plain[i];
    }
    assertTrue(differs, "the QDQ graph is not the float graph");
  }

  @Test
  void shouldRefuseAMissingRangeAndANodeOfAnotherGraph() {
    OnnxGraph g = new OnnxGraph("gemm");
    String x = g.input("x", "batch", IN);
    g.opInto("Gemm", List.of(x, g.floats("w", new float[OUT * IN], OUT, IN), g.floats("b", new float[OUT], OUT)),
        "out", OnnxGraph.integer("transB", 1));
    g.output("out", "batch", OUT);
    ModelProto model = g.model("test", "test");
    Candidate c = QdqRewriter.candidates(model).get(0);
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> QdqRewriter.quantize(model, List.of(c), Map.of(c.input(), new Range(-1, 1))));
    assertTrue(missing.getMessage().contains(c.output()), missing.getMessage());
    assertThrows(IllegalArgumentException.class, () -> QdqRewriter.quantize(model,
        List.of(new Candidate("elsewhere", "Conv", "a", "b")), Map.of("a", new Range(-1, 1), "b", new Range(-1, 1))));
  }

  @Test
  void shouldRefuseABiasBeyondInt32AtItsScaleSoTheLayerStaysFloat() {
    OnnxGraph g = new OnnxGraph("gemm");
    String x = g.input("x", "batch", IN);
    float[] w = new float[OUT * IN];
    java.util.Arrays.fill(w, 1e-6f);
    float[] b = new float[OUT];
    java.util.Arrays.fill(b, 1e6f);
    g.opInto("Gemm", List.of(x, g.floats("w", w, OUT, IN), g.floats("b", b, OUT)), "out",
        OnnxGraph.integer("transB", 1));
    g.output("out", "batch", OUT);
    ModelProto model = g.model("test", "test");
    Candidate c = QdqRewriter.candidates(model).get(0);
    // bias 1e6 at scale (2e-3 / 255) x (1e-6 / 127): about 1.6e16 steps, far beyond int32
    assertThrows(QdqRewriter.NotRepresentable.class, () -> QdqRewriter.quantize(model, List.of(c),
        Map.of(c.input(), new Range(-1e-3f, 1e-3f), c.output(), new Range(-1, 1))));
  }

  private static int quant(float v, Range r) {
    return (int) Math.max(0, Math.min(255, Math.rint(v / r.scale()) + r.zeroPoint()));
  }

  private static float[] run(ModelProto model, float[] input, int rows) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(model.toByteArray(), new OrtSession.SessionOptions());
        OnnxTensor t = OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(input), new long[] {rows, IN});
        OrtSession.Result r = s.run(Map.of("x", t))) {
      java.nio.FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] out = new float[fb.remaining()];
      fb.get(out);
      return out;
    }
  }
}

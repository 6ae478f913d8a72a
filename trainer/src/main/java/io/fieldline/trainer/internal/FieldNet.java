package io.fieldline.trainer.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * The field network: inputs x [B, N] (flattened images) and cond [B] (z for PFGM, sigma for PFGM++), output
 * [B, N + 1] (PFGM: v_x then v_z) or [B, N] (PFGM++: the denoised image). The same contract as
 * {@link io.fieldline.core.FieldModel}, so an exported network drops into the engine.
 *
 * <p>Class-conditional networks ({@link NetConfig#classes()} > 0) take a third input: in DJL a one-hot label
 * [B, classes] (an all-zero row is "no label"), in ONNX {@code label int64[B]} with index {@code classes} as "no
 * label". As EDM maps labels, a bias-free linear map of the label (one-hot times sqrt(classes)) is added to the
 * sinusoidal noise embedding before
 * the embedding MLP. It starts at zero, so a network warm-started from an unconditional checkpoint computes exactly
 * that network for every label, and "no label" stays the unconditional field forever (its embedding is zero).
 *
 * <p>Inside: input scaling c_in = 1 / sqrt(s^2 + sigma_data^2) with s = sigma (PFGM++) or s = sqrt(pi/2) z, the
 * per-pixel noise level of PFGM's kernel at height z (PFGM feeds raw x in the official code; at z = 40 its pixels
 * reach ~50, which a small network handles badly); noise embedding of ln(cond)/4 with fixed sinusoids; a U-Net;
 * PFGM++ adds EDM's skip/output scaling D = c_skip x + c_out F.
 */
public final class FieldNet extends AbstractBlock {
  /** sqrt(pi/2): PFGM's z is E|n| s with n ~ N(0, sigma^2) while the pixel noise is sigma s. */
  static final double PFGM_NOISE_PER_Z = Math.sqrt(Math.PI / 2);
  private static final int HALF = 32;

  private final NetConfig config;
  private final float[] frequencies = new float[HALF];
  private final Linear labelEmbed;
  private final Linear embed1;
  private final Linear embed2;
  private final Conv2d convIn;
  private final UNetPlan plan;
  /** The block of each stage of {@link #plan}, by stage name. */
  private final java.util.Map<String, Block> stageBlocks = new java.util.HashMap<>();
  private final GroupNorm normOut;
  private final Conv2d convOut;
  private final Conv2d convOutZ;

  public FieldNet(NetConfig config) {
    super((byte) 1);
    this.config = config;
    for (int k = 0; k < HALF; k++) {
      frequencies[k] = (float) Math.exp(k * Math.log(1000.0) / (HALF - 1)); // 1 .. 1000
    }
    int e = config.embedding();
    embed1 = addChildBlock("embed1", Layers.linear(e));
    embed2 = addChildBlock("embed2", Layers.linear(e));
    plan = new UNetPlan(config);
    convIn = addChildBlock("conv_in", Layers.conv(plan.inChannels(), 3, 1));
    for (UNetPlan.Stage st : plan.stages()) {
      Block b = switch (st.kind()) {
        case DOWN_BLOCK, MIDDLE, UP_BLOCK -> new ResBlock(st.in(), st.out(), config.groups());
        case DOWNSAMPLE -> Layers.conv(st.out(), 3, 2);
        case ATTENTION -> new AttentionBlock(st.out(), config.groups());
        case UPSAMPLE -> Layers.conv(st.out(), 3, 1);
      };
      stageBlocks.put(st.name(), addChildBlock(st.name(), b));
    }
    int ch = plan.outChannels();
    normOut = addChildBlock("norm_out", new GroupNorm(ch, config.groups()));
    convOut = addChildBlock("conv_out", Layers.conv(config.shape().channels(), 3, 1));
    convOutZ = config.pfgm() ? addChildBlock("conv_out_z", Layers.conv(1, 3, 1)) : null;
    // Last, because DJL numbers child blocks in order: the other parameters keep the names an unconditional
    // checkpoint has, which is what a warm start matches them by.
    labelEmbed = config.conditional()
        ? addChildBlock("label_embed", Linear.builder().setUnits(2 * HALF).optBias(false).build()) : null;
  }

  public NetConfig config() {
    return config;
  }

  /**
   * Every parameter the trainer sets to zero at initialization: the output convolutions (the official
   * init_scale = 0), the attention projection (so a new attention block starts as a scaled identity) and the label
   * embedding (so a conditional network starts as the unconditional one).
   */
  public List<ai.djl.nn.Parameter> zeroInitializedParameters() {
    List<ai.djl.nn.Parameter> params = new ArrayList<>();
    List<Conv2d> convs = new ArrayList<>(List.of(convOut));
    if (convOutZ != null) {
      convs.add(convOutZ);
    }
    if (stageBlocks.get("attention") instanceof AttentionBlock attention) {
      convs.add(attention.projection());
    }
    for (Conv2d conv : convs) {
      conv.getParameters().forEach(p -> params.add(p.getValue()));
    }
    if (labelEmbed != null) {
      labelEmbed.getParameters().forEach(p -> params.add(p.getValue()));
    }
    return params;
  }

  /**
   * One-hot rows for class indices, the DJL network's label input; an index outside 0..classes-1 (the "no label"
   * index {@code classes}) gives a zero row.
   */
  public static float[] oneHot(int[] labels, int classes) {
    float[] out = new float[labels.length * classes];
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] >= 0 && labels[i] < classes) {
        out[i * classes + labels[i]] = 1f;
      }
    }
    return out;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
    NDArray x = inputs.get(0);
    NDArray cond = inputs.get(1);
    long batch = x.getShape().get(0);
    NDArray s = cond.reshape(batch, 1);
    NDArray noise = config.pfgm() ? s.mul(PFGM_NOISE_PER_Z) : s;
    float sd2 = (float) (config.sigmaData() * config.sigmaData());
    NDArray cIn = noise.square().add(sd2).sqrt().pow(-1);
    NDArray cNoise = s.log().mul(0.25f);
    NDArray args = cNoise.mul(x.getManager().create(frequencies).reshape(1, HALF));
    NDArray emb = NDArrays.concat(new NDList(args.sin(), args.cos()), 1);
    if (labelEmbed != null) {
      emb = emb.add(Layers.forward(labelEmbed, ps, inputs.get(2).mul(labelScale()), training));
    }
    emb = Layers.forward(embed2, ps, Layers.silu(Layers.forward(embed1, ps, emb, training)), training);

    var shape = config.shape();
    NDArray h = x.mul(cIn).reshape(batch, shape.channels(), shape.height(), shape.width());
    h = Layers.forward(convIn, ps, h, training);
    NDArray embedding = emb;
    h = plan.walk(h, new UNetPlan.Steps<NDArray>() {
      @Override
      public NDArray apply(UNetPlan.Stage st, NDArray in) {
        Block b = stageBlocks.get(st.name());
        return switch (st.kind()) {
          case DOWN_BLOCK, MIDDLE, UP_BLOCK -> b.forward(ps, new NDList(in, embedding), training).singletonOrThrow();
          case DOWNSAMPLE, ATTENTION -> Layers.forward(b, ps, in, training);
          case UPSAMPLE -> Layers.forward(b, ps, Layers.upsample(in), training);
        };
      }

      @Override
      public NDArray concat(NDArray in, NDArray skip) {
        return in.concat(skip, 1);
      }
    });
    h = Layers.silu(Layers.forward(normOut, ps, h, training));
    NDArray f = Layers.forward(convOut, ps, h, training).reshape(batch, -1);
    if (config.pfgm()) {
      NDArray vz = Layers.forward(convOutZ, ps, h, training).reshape(batch, -1).mean(new int[] {1}, true);
      return new NDList(f.concat(vz, 1));
    }
    // EDM: D = c_skip x + c_out F
    NDArray denom = s.square().add(sd2);
    NDArray cSkip = denom.pow(-1).mul(sd2);
    NDArray cOut = s.mul((float) config.sigmaData()).div(denom.sqrt());
    return new NDList(x.mul(cSkip).add(f.mul(cOut)));
  }

  /**
   * Writes the network as an ONNX graph with inputs {@code x} [batch, N], {@code cond} [batch] and, for a conditional
   * network, {@code label} int64 [batch] (class index, or {@code classes} for no label); output {@code out}.
   */
  public OnnxGraph export() {
    var shape = config.shape();
    int n = shape.size();
    OnnxGraph g = new OnnxGraph("fieldline_" + (config.pfgm() ? "pfgm" : "pfgmpp"));
    String x = g.input("x", "batch", n);
    String cond = g.input("cond", "batch");
    String s = g.op("Reshape", List.of(cond, g.longs("col", -1, 1)));
    String noise = config.pfgm() ? g.op("Mul", List.of(s, g.scalar("noise_per_z", (float) PFGM_NOISE_PER_Z))) : s;
    float sd2 = (float) (config.sigmaData() * config.sigmaData());
    String cIn = g.op("Reciprocal", List.of(g.op("Sqrt", List.of(g.op("Add",
        List.of(g.op("Mul", List.of(noise, noise)), g.scalar("sd2", sd2)))))));
    String cNoise = g.op("Mul", List.of(g.op("Log", List.of(s)), g.scalar("quarter", 0.25f)));
    String args = g.op("Mul", List.of(cNoise, g.floats("freq", frequencies, 1, HALF)));
    String emb = g.op("Concat", List.of(g.op("Sin", List.of(args)), g.op("Cos", List.of(args))),
        OnnxGraph.integer("axis", 1));
    if (labelEmbed != null) {
      String label = g.inputInt64("label", "batch");
      emb = g.op("Add", List.of(emb, g.op("Gather", List.of(labelTable(g), label), OnnxGraph.integer("axis", 0))));
    }
    emb = Layers.linear(g, embed2, Layers.silu(g, Layers.linear(g, embed1, emb)));

    String h = g.op("Reshape", List.of(g.op("Mul", List.of(x, cIn)),
        g.longs("image", -1, shape.channels(), shape.height(), shape.width())));
    h = Layers.conv(g, convIn, h, 3, 1);
    String embedding = emb;
    h = plan.walk(h, new UNetPlan.Steps<String>() {
      @Override
      public String apply(UNetPlan.Stage st, String in) {
        Block b = stageBlocks.get(st.name());
        return switch (st.kind()) {
          case DOWN_BLOCK, MIDDLE, UP_BLOCK -> ((ResBlock) b).export(g, in, embedding);
          case DOWNSAMPLE -> Layers.conv(g, (Conv2d) b, in, 3, 2);
          case ATTENTION -> ((AttentionBlock) b).export(g, in);
          case UPSAMPLE -> Layers.conv(g, (Conv2d) b, Layers.upsample(g, in), 3, 1);
        };
      }

      @Override
      public String concat(String in, String skip) {
        return g.op("Concat", List.of(in, skip), OnnxGraph.integer("axis", 1));
      }
    });
    h = Layers.silu(g, normOut.export(g, h));
    String flat = g.longs("flat", 0, -1);
    String f = g.op("Reshape", List.of(Layers.conv(g, convOut, h, 3, 1), flat));
    if (config.pfgm()) {
      String z = g.op("Reshape", List.of(Layers.conv(g, convOutZ, h, 3, 1), flat));
      String vz = g.op("ReduceMean", List.of(z), OnnxGraph.ints("axes", 1), OnnxGraph.integer("keepdims", 1));
      g.opInto("Concat", List.of(f, vz), "out", OnnxGraph.integer("axis", 1));
      g.output("out", "batch", n + 1);
    } else {
      String denom = g.op("Add", List.of(g.op("Mul", List.of(s, s)), g.scalar("sd2", sd2)));
      String cSkip = g.op("Div", List.of(g.scalar("sd2", sd2), denom));
      String cOut = g.op("Div", List.of(g.op("Mul", List.of(s, g.scalar("sd", (float) config.sigmaData()))),
          g.op("Sqrt", List.of(denom))));
      g.opInto("Add", List.of(g.op("Mul", List.of(x, cSkip)), g.op("Mul", List.of(f, cOut))), "out");
      g.output("out", "batch", n);
    }
    return g;
  }

  /**
   * The one-hot label's scale, sqrt(classes), as EDM maps labels: unit-variance inputs to the embedding, so Adam's
   * per-weight steps move the embedding as fast as the other layers.
   */
  private float labelScale() {
    return (float) Math.sqrt(config.classes());
  }

  /** The label embedding as a [classes + 1, 2 HALF] table whose last row ("no label") is zero. */
  private String labelTable(OnnxGraph g) {
    int classes = config.classes();
    float[] w = Layers.values(labelEmbed, "weight"); // [2 HALF, classes]
    float[] table = new float[(classes + 1) * 2 * HALF];
    for (int c = 0; c < classes; c++) {
      for (int j = 0; j < 2 * HALF; j++) {
        table[c * 2 * HALF + j] = w[j * classes + c] * labelScale();
      }
    }
    return g.floats("label_table", table, classes + 1, 2 * HALF);
  }

  /**
   * Multiply-adds times two (FLOPs) of one sample's forward pass in the convolutions, the linear layers and the
   * attention block's two (H*W)^2 C products, which is nearly all of the work (norms, softmax and activations are
   * O(activations), not counted).
   */
  public long flopsPerSample() {
    var shape = config.shape();
    long h = shape.height();
    long w = shape.width();
    long flops = 2L * (2 * HALF * config.embedding() + config.embedding() * config.embedding());
    flops += conv(shape.channels(), plan.inChannels(), 3, h, w);
    for (UNetPlan.Stage st : plan.stages()) {
      flops += switch (st.kind()) {
        case DOWN_BLOCK, MIDDLE, UP_BLOCK -> block(st.in(), st.out(), st.height(), st.width());
        case DOWNSAMPLE, UPSAMPLE -> conv(st.in(), st.out(), 3, st.outHeight(), st.outWidth());
        case ATTENTION -> AttentionBlock.flops(st.out(), st.height(), st.width());
      };
    }
    int ch = plan.outChannels();
    flops += conv(ch, shape.channels() + (config.pfgm() ? 1 : 0), 3, h, w);
    return flops;
  }

  private long block(int in, int out, long h, long w) {
    return conv(in, out, 3, h, w) + conv(out, out, 3, h, w) + 2L * config.embedding() * out
        + (in == out ? 0 : conv(in, out, 1, h, w));
  }

  private static long conv(long in, long out, int k, long h, long w) {
    return 2L * in * out * k * k * h * w;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), config.outputSize())};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    long batch = inputShapes[0].get(0);
    var shape = config.shape();
    Shape e = new Shape(batch, config.embedding());
    if (labelEmbed != null) {
      labelEmbed.initialize(manager, dataType, new Shape(batch, config.classes()));
    }
    embed1.initialize(manager, dataType, new Shape(batch, 2 * HALF));
    embed2.initialize(manager, dataType, e);
    convIn.initialize(manager, dataType, new Shape(batch, shape.channels(), shape.height(), shape.width()));
    for (UNetPlan.Stage st : plan.stages()) {
      Shape in = new Shape(batch, st.in(), st.height(), st.width());
      if (stageBlocks.get(st.name()) instanceof ResBlock r) {
        r.initialize(manager, dataType, in, e);
      } else {
        stageBlocks.get(st.name()).initialize(manager, dataType, in);
      }
    }
    int ch = plan.outChannels();
    long hh = shape.height();
    long ww = shape.width();
    normOut.initialize(manager, dataType, new Shape(batch, ch, hh, ww));
    convOut.initialize(manager, dataType, new Shape(batch, ch, hh, ww));
    if (convOutZ != null) {
      convOutZ.initialize(manager, dataType, new Shape(batch, ch, hh, ww));
    }
  }
}

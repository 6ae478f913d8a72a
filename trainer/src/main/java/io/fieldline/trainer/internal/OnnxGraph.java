package io.fieldline.trainer.internal;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A small builder of ONNX graphs over the protobuf classes of {@code tribuo-util-onnx}: opset 17, IR version 8
 * (ONNX Runtime 1.21 runs both). Names are made unique by a counter; nodes must be added in topological order, which
 * is what a forward pass written once per block gives.
 */
public final class OnnxGraph {
  /** The opset the exporter targets. */
  public static final int OPSET = 17;
  private static final int IR_VERSION = 8;

  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private int counter;

  public OnnxGraph(String name) {
    graph.setName(name);
  }

  /** A fresh tensor name with the given prefix. */
  public String name(String prefix) {
    return prefix + "_" + (counter++);
  }

  /** Declares a float graph input; a {@code String} dimension is symbolic (e.g. "batch"). */
  public String input(String name, Object... dims) {
    graph.addInput(valueInfo(name, dims));
    return name;
  }

  /** Declares an int64 graph input (class labels). */
  public String inputInt64(String name, Object... dims) {
    graph.addInput(valueInfo(name, TensorProto.DataType.INT64, dims));
    return name;
  }

  /** Declares a float graph output. */
  public void output(String name, Object... dims) {
    graph.addOutput(valueInfo(name, dims));
  }

  private static ValueInfoProto valueInfo(String name, Object... dims) {
    return valueInfo(name, TensorProto.DataType.FLOAT, dims);
  }

  private static ValueInfoProto valueInfo(String name, TensorProto.DataType elementType, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder b = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String s) {
        b.setDimParam(s);
      } else {
        b.setDimValue(((Number) d).longValue());
      }
      shape.addDim(b);
    }
    TypeProto type = TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(elementType.getNumber()).setShape(shape)).build();
    return ValueInfoProto.newBuilder().setName(name).setType(type).build();
  }

  /** A float initializer (little-endian raw data); returns its name. */
  public String floats(String prefix, float[] data, long... dims) {
    String name = name(prefix);
    graph.addInitializer(floatTensor(name, data, dims));
    return name;
  }

  /** A float tensor named {@code name} with little-endian raw data (an initializer of any graph). */
  public static TensorProto floatTensor(String name, float[] data, long... dims) {
    ByteBuffer bytes = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(data);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT.getNumber())
        .setRawData(ByteString.copyFrom(bytes.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  /** A scalar float initializer. */
  public String scalar(String prefix, float value) {
    return floats(prefix, new float[] {value});
  }

  /** An int64 initializer (shapes for Reshape). */
  public String longs(String prefix, long... values) {
    String name = name(prefix);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64.getNumber())
        .addDims(values.length);
    for (long v : values) {
      t.addInt64Data(v);
    }
    graph.addInitializer(t);
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  public String op(String type, List<String> inputs, AttributeProto... attributes) {
    String out = name(type.toLowerCase(java.util.Locale.ROOT));
    graph.addNode(NodeProto.newBuilder().setOpType(type).setName(out).addAllInput(inputs).addOutput(out)
        .addAllAttribute(List.of(attributes)));
    return out;
  }

  /** Adds a node writing to a chosen output name (for graph outputs). */
  public void opInto(String type, List<String> inputs, String output, AttributeProto... attributes) {
    graph.addNode(NodeProto.newBuilder().setOpType(type).setName(output).addAllInput(inputs).addOutput(output)
        .addAllAttribute(List.of(attributes)));
  }

  public static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      b.addInts(v);
    }
    return b.build();
  }

  public static AttributeProto integer(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }

  public static AttributeProto real(String name, float value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
  }

  public static AttributeProto string(String name, String value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(value)).build();
  }

  /** The model: IR 8, default-domain opset 17. */
  public ModelProto model(String producerVersion, String docString) {
    return ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("fieldline")
        .setProducerVersion(producerVersion).setDocString(docString)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET)).setGraph(graph).build();
  }
}

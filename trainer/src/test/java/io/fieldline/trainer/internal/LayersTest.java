package io.fieldline.trainer.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The trainer's convolutions against an exact float64 computation: the output and the gradient passed to the input,
 * which every gradient upstream goes through. On one CPU the plain convolution's input gradient with output channels
 * not a multiple of 16 (the network's last convolution has one per image channel) was wrong by its whole size (see
 * {@link Layers#conv(Conv2d, ParameterStore, NDArray, boolean)}); these shapes are the ones that showed it.
 */
class LayersTest {
  @ParameterizedTest(name = "{0} -> {1} channels, {2}x{3}, batch {4}")
  @CsvSource({"16, 1, 1, 2, 128", "16, 1, 8, 8, 32", "32, 1, 28, 28, 8", "32, 2, 8, 8, 32", "8, 8, 8, 8, 32", "16, 24, 8, 8, 32", "16, 16, 8, 8, 32"})
  void shouldGiveTheExactOutputAndInputGradientOfAConvolution(int in, int out, int h, int w, int b)
      throws Exception {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), Networks.ENGINE)) {
      Conv2d conv = Layers.conv(out, 3, 1);
      conv.initialize(m, DataType.FLOAT32, new Shape(b, in, h, w));
      Random r = new Random(1);
      float[] ws = gaussian(r, out * in * 9, 0.1);
      float[] bias = gaussian(r, out, 0.1);
      conv.getParameters().get("weight").getArray().set(ws);
      conv.getParameters().get("bias").getArray().set(bias);
      float[] xs = gaussian(r, b * in * h * w, 1);
      float[] rs = gaussian(r, b * out * h * w, 1);
      float[] y;
      float[] grad;
      try (NDManager scope = m.newSubManager()) {
        NDArray x = scope.create(xs, new Shape(b, in, h, w));
        x.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getEngine(Networks.ENGINE).newGradientCollector()) {
          NDArray out4 = Layers.conv(conv, new ParameterStore(scope, false), x, true);
          y = out4.toFloatArray();
          collector.backward(out4.mul(scope.create(rs, new Shape(b, out, h, w))).sum());
        }
        grad = x.getGradient().toFloatArray();
      }
      // y = sum over c, taps of w x (+ bias); d(sum r y)/dx = the transposed convolution of r with w, both in double.
      float[] yExact = new float[y.length];
      float[] gradExact = new float[grad.length];
      for (int n = 0; n < b; n++) {
        for (int o = 0; o < out; o++) {
          for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
              double s = bias[o];
              for (int c = 0; c < in; c++) {
                for (int ki = 0; ki < 3; ki++) {
                  for (int kj = 0; kj < 3; kj++) {
                    int si = i + ki - 1;
                    int sj = j + kj - 1;
                    if (si < 0 || sj < 0 || si >= h || sj >= w) {
                      continue;
                    }
                    double wv = ws[((o * in + c) * 3 + ki) * 3 + kj];
                    s += wv * xs[((n * in + c) * h + si) * w + sj];
                    gradExact[((n * in + c) * h + si) * w + sj] += (float) (wv * rs[((n * out + o) * h + i) * w + j]);
                  }
                }
              }
              yExact[((n * out + o) * h + i) * w + j] = (float) s;
            }
          }
        }
      }
      // float32 sums of at most 9 * 32 terms of size ~0.3: errors ~1e-6; a wrong kernel is off by ~1.
      assertArrayEquals(yExact, y, 1e-4f, "output");
      double worst = 0;
      for (int i = 0; i < grad.length; i++) {
        worst = Math.max(worst, Math.abs(grad[i] - gradExact[i]));
      }
      assertTrue(worst < 1e-4, "input gradient off by " + worst);
    }
  }

  private static float[] gaussian(Random r, int n, double sd) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * sd);
    }
    return v;
  }
}

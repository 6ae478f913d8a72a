package io.fieldline.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LatentsTest {
  @Test
  void shouldMoveTheDirectionOnTheGreatCircleAndTheRadiusLinearly() {
    PfgmppPhysics physics = PfgmppPhysics.edmDefaults(784, 128);
    double[] a = Priors.draw(physics, 1, 0);
    double[] b = Priors.draw(physics, 2, 0);
    assertArrayEquals(a, Latents.slerp(a, b, 0));
    assertArrayEquals(b, Latents.slerp(a, b, 1));
    double ra = Latents.norm(a);
    double rb = Latents.norm(b);
    double angle = Math.acos(dot(a, b) / (ra * rb));
    for (double t : new double[] {0.1, 0.25, 0.5, 0.9}) {
      double[] x = Latents.slerp(a, b, t);
      assertEquals((1 - t) * ra + t * rb, Latents.norm(x), 1e-9 * ra, "radius at t = " + t);
      // The angle to each end is t and 1 - t of the whole: a great circle, evenly travelled.
      assertEquals(t * angle, Math.acos(dot(a, x) / (ra * Latents.norm(x))), 1e-9, "angle from a at t = " + t);
      assertEquals((1 - t) * angle, Math.acos(dot(b, x) / (rb * Latents.norm(x))), 1e-9, "angle from b");
    }
    double[] scaled = a.clone();
    for (int i = 0; i < scaled.length; i++) {
      scaled[i] *= 2;
    }
    assertEquals(1.5 * ra, Latents.norm(Latents.slerp(a, scaled, 0.5)), 1e-9 * ra, "one direction: radius only");
    assertThrows(IllegalArgumentException.class, () -> Latents.slerp(a, new double[3], 0.5));
    assertThrows(IllegalArgumentException.class, () -> Latents.slerp(a, b, Double.NaN));
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}

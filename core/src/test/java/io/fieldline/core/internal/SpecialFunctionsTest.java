package io.fieldline.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.commons.math3.special.Gamma;
import org.junit.jupiter.api.Test;

class SpecialFunctionsTest {
  @Test
  void shouldMatchAnIndependentLnGammaFromTinyToHugeArguments() {
    for (double x : new double[] {1e-3, 0.5, 1, 1.5, 2, 3.7, 9.99, 10, 10.5, 64, 392, 456, 1e4, 5e4 + 392, 1e9}) {
      double expected = Gamma.logGamma(x);
      assertEquals(expected, SpecialFunctions.lnGamma(x), 1e-12 * Math.max(1, Math.abs(expected)), "x = " + x);
    }
    assertEquals(0.5 * Math.log(Math.PI), SpecialFunctions.lnGamma(0.5), 1e-14);
    assertEquals(Math.log(362880), SpecialFunctions.lnGamma(10), 1e-13);
  }

  @Test
  void shouldRefuseArgumentsOutsideItsDomain() {
    for (double x : new double[] {0, -1, Double.NaN}) {
      assertThrows(IllegalArgumentException.class, () -> SpecialFunctions.lnGamma(x));
    }
  }
}

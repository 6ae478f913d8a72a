package io.fieldline.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fieldline.core.PfgmPhysics;
import org.junit.jupiter.api.Test;

class PfgmDynamicsTest {
  @Test
  void shouldDivideByTheBiasedVzAboveZExp() {
    PfgmDynamics dynamics = new PfgmDynamics(new PfgmPhysics(2, 40, 1e-3, 3000, 5, 1));
    double[] dxdz = new double[2];
    dynamics.derivative(new double[2], 2.0, new double[] {0.3, -0.6, -0.2}, dxdz);
    assertEquals(0.3 / (-0.2 + 1e-5), dxdz[0], 1e-15);
    assertEquals(-0.6 / (-0.2 + 1e-5), dxdz[1], 1e-15);
  }

  @Test
  void shouldRebuildVzFromVxBelowZExp() {
    // n = |v_x| / sqrt(N), a = gamma n / (1 - n), v_z = -sqrt(N) z / (sqrt(a^2 + z^2) + gamma)
    // (docs/PHYSICS.md section 6)
    PfgmDynamics dynamics = new PfgmDynamics(new PfgmPhysics(2, 40, 1e-3, 3000, 5, 1));
    double[] vx = {0.3, -0.6};
    double z = 0.5;
    double n = Math.hypot(0.3, -0.6) / Math.sqrt(2);
    double a = 5 * n / (1 - n);
    double vz = -Math.sqrt(2) * z / (Math.sqrt(a * a + z * z) + 5);
    double[] dxdz = new double[2];
    dynamics.derivative(new double[2], z, new double[] {vx[0], vx[1], 123.0}, dxdz);
    assertEquals(vx[0] / (vz + 1e-5), dxdz[0], 1e-14);
    assertEquals(vx[1] / (vz + 1e-5), dxdz[1], 1e-14);
  }
}

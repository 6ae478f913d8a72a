package io.fieldline.core;

import java.util.Locale;

/**
 * The ODE solvers. Their meaning depends on the model family:
 *
 * <table>
 *   <caption>Solvers and their network evaluations (NFE)</caption>
 *   <tr><th>solver</th><th>PFGM (D = 1)</th><th>PFGM++</th></tr>
 *   <tr><td>EULER</td><td>Euler in z on a ln z-uniform grid, NFE = steps</td>
 *       <td>Euler on EDM's sigma schedule, NFE = steps</td></tr>
 *   <tr><td>HEUN</td><td>improved Euler on the same grid, last step Euler, NFE = 2 steps - 1</td>
 *       <td>EDM's Heun sampler, NFE = 2 steps - 1 (35 for 18 steps)</td></tr>
 *   <tr><td>RK45</td><td colspan="2">adaptive Dormand-Prince 5(4) in t = ln z (or ln sigma) with error control per
 *       sample; NFE = 2 + 6 per attempted step (+1 final denoising for PFGM++)</td></tr>
 * </table>
 */
public enum Solver {
  EULER,
  HEUN,
  RK45;

  /**
   * Parses a solver name: {@code euler}, {@code heun} (alias {@code improved-euler}, and {@code edm} for PFGM++
   * models), {@code rk45}. Case-insensitive.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static Solver parse(String name) {
    switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
      case "euler":
        return EULER;
      case "heun":
      case "improved-euler":
      case "edm":
        return HEUN;
      case "rk45":
        return RK45;
      default:
        throw new IllegalArgumentException("unknown solver '" + name + "' (expected euler, heun, rk45 or edm)");
    }
  }

  /** The lower-case name used on the command line and in image metadata. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}

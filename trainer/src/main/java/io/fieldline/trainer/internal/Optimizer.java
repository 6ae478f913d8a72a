package io.fieldline.trainer.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam (with PyTorch's bias correction) plus global-norm gradient clipping and an EMA of the weights, written on
 * NDArrays so that every piece of state can be checkpointed (DJL's own Adam keeps its moments private, and its
 * {@code optClipGrad} clamps each element from above instead of clipping the norm).
 *
 * <p>Call {@link #step} outside any gradient collector (autograd is off there), once per training step.
 */
public final class Optimizer implements AutoCloseable {
  private final PairList<String, Parameter> parameters;
  private final NDManager state;
  private final Map<String, NDArray> m = new LinkedHashMap<>();
  private final Map<String, NDArray> v = new LinkedHashMap<>();
  private final Map<String, NDArray> ema = new LinkedHashMap<>();
  private final float beta1;
  private final float beta2;
  private final float eps;

  public Optimizer(PairList<String, Parameter> parameters, NDManager parent, float beta1, float beta2, float eps) {
    this.parameters = parameters;
    this.state = parent.newSubManager();
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    for (Pair<String, Parameter> p : parameters) {
      NDArray w = p.getValue().getArray();
      m.put(p.getKey(), state.zeros(w.getShape()));
      v.put(p.getKey(), state.zeros(w.getShape()));
      NDArray copy = w.duplicate();
      copy.attach(state);
      ema.put(p.getKey(), copy);
    }
  }

  /**
   * One update: clip the gradients to a global norm of {@code clip} (0 = off), Adam with learning rate {@code lr}
   * (step number {@code t} >= 1 for the bias correction), zero the gradients, update the EMA with
   * {@code emaDecay}.
   *
   * @return the gradient norm before clipping
   */
  public double step(NDManager scope, long t, double lr, double clip, double emaDecay) {
    List<NDArray> grads = new ArrayList<>();
    double sumSq = 0;
    for (Pair<String, Parameter> p : parameters) {
      NDArray g = p.getValue().getArray().getGradient();
      g.attach(scope);
      grads.add(g);
      sumSq += g.square().sum().getFloat();
    }
    double norm = Math.sqrt(sumSq);
    if (!Double.isFinite(norm)) {
      for (NDArray g : grads) {
        // In place, by index: NDArray.set(float[]) on the PyTorch engine points the tensor at a Java direct buffer
        // without copying and keeps that buffer alive only through this short-lived wrapper, so the parameter's
        // gradient read freed memory a few GCs later (the trainer's SIGSEGV in libc, 40-130 steps after a skip).
        g.set(new NDIndex("..."), 0f);
      }
      return norm; // no update this step; the caller decides whether that is fatal
    }
    double scale = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1.0;
    double stepSize = lr * Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t));
    int i = 0;
    for (Pair<String, Parameter> p : parameters) {
      NDArray g = grads.get(i++);
      if (scale != 1.0) {
        g.muli((float) scale);
      }
      NDArray mi = m.get(p.getKey());
      NDArray vi = v.get(p.getKey());
      mi.muli(beta1).addi(g.mul(1 - beta1));
      vi.muli(beta2).addi(g.square().mul(1 - beta2));
      NDArray denom = vi.sqrt();
      denom.attach(scope);
      denom.addi(eps);
      NDArray update = mi.div(denom);
      update.attach(scope);
      update.muli((float) stepSize);
      p.getValue().getArray().subi(update);
      g.muli(0);
    }
    for (Pair<String, Parameter> p : parameters) {
      NDArray e = ema.get(p.getKey());
      NDArray w = p.getValue().getArray().mul((float) (1 - emaDecay));
      w.attach(scope);
      e.muli((float) emaDecay).addi(w);
    }
    return norm;
  }

  /** Named state for checkpoints: parameter, EMA, first and second moment, per parameter. */
  public Map<String, float[][]> snapshot() {
    Map<String, float[][]> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : parameters) {
      String k = p.getKey();
      out.put(k, new float[][] {p.getValue().getArray().toFloatArray(), ema.get(k).toFloatArray(),
          m.get(k).toFloatArray(), v.get(k).toFloatArray()});
    }
    return out;
  }

  /** Restores {@link #snapshot()} in place. */
  public void restore(Map<String, float[][]> snapshot) {
    for (Pair<String, Parameter> p : parameters) {
      float[][] s = snapshot.get(p.getKey());
      if (s == null) {
        throw new IllegalStateException("checkpoint lacks parameter " + p.getKey());
      }
      p.getValue().getArray().set(s[0]);
      ema.get(p.getKey()).set(s[1]);
      m.get(p.getKey()).set(s[2]);
      v.get(p.getKey()).set(s[3]);
    }
  }

  /**
   * Restores the parameters that {@code snapshot} holds with the same name and size (value, EMA and moments) and
   * leaves the others as they are: a warm start of a network that adds parameters to the snapshot's.
   *
   * @return the names of the parameters left as they were
   * @throws IllegalStateException if a parameter is in the snapshot with another size
   */
  public List<String> restoreMatching(Map<String, float[][]> snapshot) {
    List<String> kept = new ArrayList<>();
    for (Pair<String, Parameter> p : parameters) {
      float[][] s = snapshot.get(p.getKey());
      if (s == null) {
        kept.add(p.getKey());
        continue;
      }
      if (s[0].length != p.getValue().getArray().size()) {
        throw new IllegalStateException("parameter " + p.getKey() + " has " + s[0].length + " values in the "
            + "checkpoint and " + p.getValue().getArray().size() + " in the network");
      }
      p.getValue().getArray().set(s[0]);
      ema.get(p.getKey()).set(s[1]);
      m.get(p.getKey()).set(s[2]);
      v.get(p.getKey()).set(s[3]);
    }
    return kept;
  }

  /** Copies the EMA weights into the live parameters (for export; training must not continue afterwards). */
  public void loadEmaIntoParameters() {
    for (Pair<String, Parameter> p : parameters) {
      p.getValue().getArray().set(ema.get(p.getKey()).toFloatArray());
    }
  }

  @Override
  public void close() {
    state.close();
  }
}

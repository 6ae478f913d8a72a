package io.fieldline.streams.internal;

import io.fieldline.core.ClassPlan;
import io.fieldline.core.SamplerSettings;
import io.fieldline.schemas.ClassRequest;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.server.ModelCatalog;
import io.fieldline.server.ModelException;
import io.fieldline.streams.PipelineLimits;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks a decoded request against the limits and the model catalog, and resolves what the generators need: the
 * model entry and the full sampler settings (defaults filled in). A rejection carries a reason a user can act on.
 * Runs on stream threads, so it never loads a model: it checks against the catalog's {@link ModelCatalog#describe
 * description} (the loaded model's, or its bundle's {@code model.json}).
 */
public final class RequestValidator {
  /** The outcome: either accepted (entry, settings and the images' classes) or rejected (reason). */
  public record Verdict(ModelCatalog.Entry model, SamplerSettings settings, ClassPlan classes, String rejection) {
    static Verdict reject(String reason) {
      return new Verdict(null, null, null, reason);
    }

    public boolean accepted() {
      return rejection == null;
    }
  }

  private final ModelCatalog catalog;
  private final PipelineLimits limits;

  public RequestValidator(ModelCatalog catalog, PipelineLimits limits) {
    this.catalog = catalog;
    this.limits = limits;
  }

  /** Validates a request that arrived with {@code key} at {@code now}. */
  public Verdict validate(String key, GenerationRequest r, Instant now) {
    String id = r.getRequestId();
    if (id == null || id.isBlank()) {
      return Verdict.reject("requestId is empty");
    }
    if (id.length() > limits.maxRequestIdLength()) {
      return Verdict.reject("requestId has " + id.length() + " characters, the limit is " + limits.maxRequestIdLength());
    }
    if (key != null && !key.equals(id)) {
      return Verdict.reject("record key '" + abbreviate(key) + "' differs from requestId '" + abbreviate(id)
          + "' (the key must be the requestId, so all records of a request share a partition)");
    }
    if (r.getCount() < 1) {
      return Verdict.reject("count must be at least 1, got " + r.getCount());
    }
    if (r.getCount() > limits.maxCount()) {
      return Verdict.reject("count " + r.getCount() + " is over the limit of " + limits.maxCount() + " images");
    }
    if (Math.abs(r.getPriority()) > limits.maxPriority()) {
      return Verdict.reject("priority must be within +-" + limits.maxPriority() + ", got " + r.getPriority());
    }
    if (r.getDeadlineEpochMs() != null && r.getDeadlineEpochMs() <= now.toEpochMilli()) {
      return Verdict.reject("deadline " + Instant.ofEpochMilli(r.getDeadlineEpochMs()) + " has already passed");
    }
    if (r.getClientId() != null && r.getClientId().length() > limits.maxRequestIdLength()) {
      return Verdict.reject("clientId is longer than " + limits.maxRequestIdLength() + " characters");
    }
    Map<String, String> labels = r.getLabels();
    if (labels != null) {
      if (labels.size() > limits.maxLabels()) {
        return Verdict.reject(labels.size() + " labels, the limit is " + limits.maxLabels());
      }
      for (Map.Entry<String, String> e : labels.entrySet()) {
        if (e.getKey().length() > limits.maxLabelLength() || e.getValue().length() > limits.maxLabelLength()) {
          return Verdict.reject("label '" + abbreviate(e.getKey()) + "' is longer than " + limits.maxLabelLength()
              + " characters");
        }
      }
    }
    Optional<ModelCatalog.Entry> entry;
    try {
      entry = catalog.resolve(r.getModel(), r.getModelVersion());
    } catch (ModelException e) {
      return Verdict.reject(e.getMessage());
    }
    if (entry.isEmpty()) {
      return Verdict.reject("unknown model '" + abbreviate(r.getModel()) + "'"
          + (r.getModelVersion() == null ? "" : " version '" + abbreviate(r.getModelVersion()) + "'"));
    }
    ModelCatalog.Description model;
    try {
      model = catalog.describe(entry.get());
    } catch (RuntimeException e) {
      return Verdict.reject("model '" + r.getModel() + "' cannot be served: " + e.getMessage());
    }
    SamplerSettings settings;
    try {
      settings = settings(r.getSampler(), model);
    } catch (IllegalArgumentException e) {
      return Verdict.reject("sampler: " + e.getMessage());
    }
    ClassPlan plan;
    try {
      plan = classes(r.getClasses(), model);
    } catch (IllegalArgumentException e) {
      return Verdict.reject("classes: " + e.getMessage());
    }
    if (plan.total() >= 0 && plan.total() != r.getCount()) {
      return Verdict.reject("classes: the class counts add up to " + plan.total() + " images but count is "
          + r.getCount());
    }
    if (settings.guidance() != 1 && model.classes().isEmpty()) {
      return Verdict.reject("sampler: guidance " + settings.guidance() + " needs a class-conditional model, and '"
          + r.getModel() + "' is unconditional");
    }
    return new Verdict(entry.get(), settings, plan, null);
  }

  /**
   * The classes of a request's images for a model: none without a class request; else its list (cycled) or its
   * per-class counts, exactly one of which must be given.
   *
   * @throws IllegalArgumentException with a reason a user can act on
   */
  public static ClassPlan classes(ClassRequest request, ModelCatalog.Description model) {
    if (request == null) {
      return ClassPlan.NONE;
    }
    boolean names = request.getNames() != null && !request.getNames().isEmpty();
    boolean counts = request.getCounts() != null && !request.getCounts().isEmpty();
    if (names == counts) {
      throw new IllegalArgumentException("give exactly one of names and counts");
    }
    List<String> classes = model.classes();
    if (names) {
      return ClassPlan.cycle(request.getNames().stream().map(CharSequence::toString).toList(), classes);
    }
    Map<String, Integer> byName = new java.util.LinkedHashMap<>();
    request.getCounts().forEach((k, v) -> byName.put(k.toString(), v));
    return ClassPlan.counts(byName, classes);
  }

  /** The full settings of a request's sampler for a model (the same defaults as {@code fieldline generate}). */
  public static SamplerSettings settings(SamplerSpec spec, ModelCatalog.Description model) {
    if (spec == null) {
      return model.defaultSampler();
    }
    // An empty solver keeps the model's (a spec that only sets guidance).
    String solver = spec.getSolver() == null || spec.getSolver().isBlank() ? null : spec.getSolver();
    SamplerSettings s = SamplerSettings.resolve(model.defaultSampler(), model.physics(), solver, spec.getSteps(),
        spec.getRtol(), spec.getAtol());
    return spec.getGuidance() == null ? s : s.withGuidance(spec.getGuidance());
  }

  private static String abbreviate(String s) {
    return s == null ? "null" : s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}

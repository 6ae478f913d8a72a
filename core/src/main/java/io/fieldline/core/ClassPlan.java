package io.fieldline.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which class each image of a request is drawn from: a pure function of the request and the image index, so an
 * image's class, like its pixels, never depends on batching, restarts or instance count.
 *
 * <p>Three ways to ask, each by class name or index (as text):
 * <ul>
 *   <li>a list, cycled over the indices: {@code [sandal, sneaker]} gives sandal, sneaker, sandal, ...;</li>
 *   <li>{@code all}: every class of the model in index order, cycled (balanced);</li>
 *   <li>per-class counts: {@code {sneaker: 50, sandal: 100}} gives images 0-99 sandal and 100-149 sneaker (classes
 *       in index order, whatever order the counts were written in); the request's count must be their sum.</li>
 * </ul>
 * No plan ({@link #NONE}) means every image is drawn without a class (the unconditional field).
 */
public final class ClassPlan {
  /** Every image without a class. */
  public static final ClassPlan NONE = new ClassPlan(new int[0], null);
  /** Most entries in a class list, and largest count per class. */
  public static final int MAX_ENTRIES = 10_000;

  private final int[] cycle;
  private final long[] cumulative; // counts plan: end index (exclusive) of each entry of cycle

  private ClassPlan(int[] cycle, long[] cumulative) {
    this.cycle = cycle;
    this.cumulative = cumulative;
  }

  /**
   * A list of classes cycled over the images; {@code ["all"]} is every class in index order.
   *
   * @param spec class names or indices, or the single word {@code all}
   * @param classes the model's class names in index order (empty: unconditional model)
   * @throws IllegalArgumentException for an unconditional model, an empty or too long list, or an unknown class
   */
  public static ClassPlan cycle(List<String> spec, List<String> classes) {
    requireConditional(classes);
    if (spec == null || spec.isEmpty()) {
      throw new IllegalArgumentException("the class list is empty");
    }
    if (spec.size() > MAX_ENTRIES) {
      throw new IllegalArgumentException("the class list has " + spec.size() + " entries, the limit is " + MAX_ENTRIES);
    }
    if (spec.size() == 1 && spec.get(0).trim().equalsIgnoreCase("all")) {
      int[] every = new int[classes.size()];
      for (int c = 0; c < every.length; c++) {
        every[c] = c;
      }
      return new ClassPlan(every, null);
    }
    int[] cycle = new int[spec.size()];
    for (int i = 0; i < cycle.length; i++) {
      cycle[i] = index(spec.get(i), classes);
    }
    return new ClassPlan(cycle, null);
  }

  /**
   * Per-class counts: images in class-index order, {@code counts.get(c)} of each.
   *
   * @throws IllegalArgumentException for an unconditional model, no counts, an unknown class, a class named twice
   *     (by name and by index), or a count below 1 or above {@value #MAX_ENTRIES} per class
   */
  public static ClassPlan counts(Map<String, Integer> counts, List<String> classes) {
    requireConditional(classes);
    if (counts == null || counts.isEmpty()) {
      throw new IllegalArgumentException("no class counts given");
    }
    TreeMap<Integer, Integer> byIndex = new TreeMap<>();
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      int c = index(e.getKey(), classes);
      Integer n = e.getValue();
      if (n == null || n < 1 || n > MAX_ENTRIES) {
        throw new IllegalArgumentException("the count of class '" + classes.get(c) + "' must be in 1.." + MAX_ENTRIES
            + ", got " + n);
      }
      if (byIndex.put(c, n) != null) {
        throw new IllegalArgumentException("class '" + classes.get(c) + "' is counted twice");
      }
    }
    int[] cycle = new int[byIndex.size()];
    long[] ends = new long[byIndex.size()];
    long total = 0;
    int i = 0;
    for (Map.Entry<Integer, Integer> e : byIndex.entrySet()) {
      total += e.getValue();
      cycle[i] = e.getKey();
      ends[i++] = total;
    }
    return new ClassPlan(cycle, ends);
  }

  /**
   * The index of a class given by name (case-insensitive) or by index.
   *
   * @throws IllegalArgumentException naming the model's classes if there is no such class
   */
  public static int index(String nameOrIndex, List<String> classes) {
    String s = nameOrIndex == null ? "" : nameOrIndex.trim();
    for (int c = 0; c < classes.size(); c++) {
      if (classes.get(c).equalsIgnoreCase(s)) {
        return c;
      }
    }
    if (!s.isEmpty() && s.chars().allMatch(Character::isDigit) && s.length() <= 9) {
      int c = Integer.parseInt(s);
      if (c < classes.size()) {
        return c;
      }
    }
    String shown = s.length() <= 40 ? s : s.substring(0, 40) + "...";
    throw new IllegalArgumentException("unknown class '" + shown + "' (the model's classes: "
        + String.join(", ", classes) + ", or their indices 0.." + (classes.size() - 1) + ")");
  }

  private static void requireConditional(List<String> classes) {
    if (classes == null || classes.isEmpty()) {
      throw new IllegalArgumentException("the model is unconditional: it takes no class (ask a class-conditional "
          + "model, or leave the classes out)");
    }
  }

  /** True for {@link #NONE}. */
  public boolean none() {
    return cycle.length == 0;
  }

  /** For a counts plan, the number of images it describes (the request's count must equal it); else -1. */
  public long total() {
    return cumulative == null ? -1 : cumulative[cumulative.length - 1];
  }

  /** The class of image {@code index}, or {@link FieldModel#NO_LABEL}. */
  public int labelOf(long index) {
    if (none()) {
      return FieldModel.NO_LABEL;
    }
    if (cumulative == null) {
      return cycle[(int) (index % cycle.length)];
    }
    for (int i = 0; i < cumulative.length; i++) {
      if (index < cumulative[i]) {
        return cycle[i];
      }
    }
    throw new IllegalArgumentException("image " + index + " is beyond the " + total() + " the class counts describe");
  }

  /** e.g. {@code none}, {@code cycle[5, 7]}, {@code counts{5: 100, 7: 50}}, for messages. */
  @Override
  public String toString() {
    if (none()) {
      return "none";
    }
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < cycle.length; i++) {
      parts.add(cumulative == null ? Integer.toString(cycle[i])
          : String.format(Locale.ROOT, "%d: %d", cycle[i], cumulative[i] - (i == 0 ? 0 : cumulative[i - 1])));
    }
    return cumulative == null ? "cycle" + parts : "counts{" + String.join(", ", parts) + "}";
  }
}

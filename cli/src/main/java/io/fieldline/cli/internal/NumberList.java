package io.fieldline.cli.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Parses lists such as {@code 0-63}, {@code 7} or {@code 1,5,9-12} into distinct non-negative longs, in order. */
public final class NumberList {
  private NumberList() {}

  /**
   * Parses a list.
   *
   * @param what the flag's name, for messages
   * @param text the list
   * @param max the most values accepted
   * @throws IllegalArgumentException with a one-line reason
   */
  public static List<Long> parse(String what, String text, long max) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(what + " is empty (expected e.g. 0-63 or 1,5,9-12)");
    }
    Set<Long> values = new LinkedHashSet<>();
    for (String part : text.split(",")) {
      String p = part.trim();
      int dash = p.indexOf('-', 1);
      long from;
      long to;
      try {
        if (dash > 0) {
          from = Long.parseLong(p.substring(0, dash).trim());
          to = Long.parseLong(p.substring(dash + 1).trim());
        } else {
          from = Long.parseLong(p);
          to = from;
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(what + ": '" + p + "' is not a number or a range like 0-63");
      }
      if (from < 0 || to < 0) {
        throw new IllegalArgumentException(what + ": values must be >= 0, got '" + p + "'");
      }
      if (to < from) {
        throw new IllegalArgumentException(what + ": empty range '" + p + "' (the end is below the start)");
      }
      if (to - from >= max || values.size() + (to - from + 1) > max) {
        throw new IllegalArgumentException(what + ": more than " + max + " values");
      }
      for (long v = from; v <= to; v++) {
        values.add(v);
      }
    }
    return new ArrayList<>(values);
  }
}

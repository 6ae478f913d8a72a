package io.fieldline.streams;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Masks secrets before settings or URLs are printed or put into messages: values of secret-looking keys (passwords,
 * JAAS lines, tokens, private keys, credentials) become {@code [hidden]}, as Kafka itself prints its
 * {@code Password}-typed settings, and the user-info of URLs ({@code http://user:pw@host}) becomes
 * {@code http://[hidden]@host}.
 */
public final class Secrets {
  /** What a masked value reads as. */
  public static final String HIDDEN = "[hidden]";

  private static final String[] SECRET_WORDS = {"password", "secret", "jaas", "token", "credential", "user.info",
      "userinfo", "apikey", "api.key", "private"};
  // scheme://user-info@ : the user-info runs to the last '@' before the host's end ('/', '?', '#', ',' or space).
  private static final Pattern URL_USER_INFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\\s,]*@");

  private Secrets() {}

  /**
   * Whether a setting's value is secret by its key: any key containing password, secret, jaas, token, credential,
   * user.info, apikey or private, any {@code ssl.key.*} key and any key whose last part is {@code key} (e.g.
   * {@code ssl.keystore.key}). Serializer settings such as {@code key.serializer} are not secret.
   */
  public static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    for (String word : SECRET_WORDS) {
      if (k.contains(word)) {
        return true;
      }
    }
    return k.startsWith("ssl.key.") || k.equals("key") || k.endsWith(".key") || k.endsWith("_key");
  }

  /** {@code url} with its user-info (also every URL's inside a list) replaced by {@code [hidden]}. */
  public static String maskUrl(String url) {
    return url == null ? null : URL_USER_INFO.matcher(url).replaceAll("$1" + HIDDEN + "@");
  }

  /** The settings sorted by key, secret values hidden and URL user-info masked in the others. */
  public static Map<String, String> mask(Map<?, ?> settings) {
    Map<String, String> out = new TreeMap<>();
    settings.forEach((k, v) -> {
      String key = String.valueOf(k);
      out.put(key, isSecret(key) ? HIDDEN : maskUrl(String.valueOf(v)));
    });
    return out;
  }

  /** One line {@code key=value, key=[hidden], ...} of the masked settings, sorted by key. */
  public static String describe(Map<?, ?> settings) {
    return mask(settings).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(", "));
  }
}

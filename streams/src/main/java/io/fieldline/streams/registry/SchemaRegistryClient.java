package io.fieldline.streams.registry;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import io.fieldline.streams.Secrets;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A small client of the Confluent schema-registry REST API (also served by Apicurio's {@code /apis/ccompat/v7},
 * Karapace and Redpanda): register a schema under a subject, look a schema up by id, test and set compatibility.
 *
 * <p>Ids and registrations are cached (schemas are immutable per id), so steady-state serialization makes no calls.
 * Transient failures (connection errors, HTTP 5xx, 429) are retried with exponential back-off; 4xx are not. Every
 * failure is a {@link RegistryException} naming the URL (user-info masked) and the request. Thread-safe.
 */
public final class SchemaRegistryClient {
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final Gson GSON = new Gson();

  private final String baseUrl;
  private final String shownUrl; // the URL with its user-info masked: the one that goes into messages
  private final String authorization; // "Basic ..." from the URL's user-info, or null
  private final HttpClient http;
  private final Duration timeout;
  private final int maxAttempts;
  private final Duration backoff;
  private final Map<Integer, Schema> byId = new ConcurrentHashMap<>();
  private final Map<String, Integer> registered = new ConcurrentHashMap<>();

  private SchemaRegistryClient(Builder b) {
    String url = b.url.endsWith("/") ? b.url.substring(0, b.url.length() - 1) : b.url;
    this.shownUrl = Secrets.maskUrl(url);
    // Java's HttpClient ignores a URL's user-info: send it as HTTP Basic credentials, the way Confluent-API
    // registries (Confluent Cloud, Karapace, Apicurio with auth) expect them, and keep it out of the request URL.
    URI uri = URI.create(url);
    String userInfo = uri.getRawUserInfo();
    this.authorization = userInfo == null ? null : "Basic " + java.util.Base64.getEncoder().encodeToString(
        java.net.URLDecoder.decode(userInfo, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
    this.baseUrl = userInfo == null ? url : url.replace(userInfo + "@", "");
    this.timeout = b.timeout;
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
    this.http = HttpClient.newBuilder().connectTimeout(b.timeout).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The registry's base URL for messages and metrics: user-info, if any, shows as {@code [hidden]}. */
  public String url() {
    return shownUrl;
  }

  /**
   * Registers {@code schema} under {@code subject} (idempotent: an already registered schema returns its id).
   *
   * @return the global schema id
   */
  public int register(String subject, Schema schema) {
    String key = subject + '\u0000' + schema.toString();
    Integer cached = registered.get(key);
    if (cached != null) {
      return cached;
    }
    JsonObject body = new JsonObject();
    body.addProperty("schema", schema.toString());
    JsonObject reply;
    for (int attempt = 1; ; attempt++) {
      try {
        reply = call("POST", "/subjects/" + encode(subject) + "/versions", body.toString(),
            "register a schema under subject " + subject);
        break;
      } catch (RegistryException e) {
        // Two instances registering a new subject at once: Apicurio answers the loser 409 "already exists" while the
        // winner creates it. Registering the same schema again then returns its id. (A 409 for an incompatible
        // schema says something else and is thrown at once.)
        if (e.status() != 409 || e.getMessage() == null || !e.getMessage().contains("already exists")
            || attempt == 5) {
          throw e;
        }
        try {
          Thread.sleep(100L * attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
    int id = reply.get("id").getAsInt();
    registered.put(key, id);
    byId.putIfAbsent(id, schema);
    return id;
  }

  /** A call that may meet a registry outage. */
  public interface Call<T> {
    T run() throws Exception;
  }

  /**
   * Runs {@code call}, waiting out a registry that is unreachable or failing (a transient {@link RegistryException}):
   * retries with back-off from 0.5 s doubling to 10 s, telling {@code waiting} each time what it waits for, until
   * {@code maxWait} has passed.
   *
   * @throws RegistryException when the registry refuses (not transient) or the wait runs out
   * @throws Exception whatever else {@code call} throws
   */
  public <T> T waitingOutOutages(Call<T> call, java.time.Duration maxWait, java.util.function.Consumer<String> waiting)
      throws Exception {
    long deadline = System.nanoTime() + maxWait.toNanos();
    long backoff = 500;
    while (true) {
      try {
        return call.run();
      } catch (RegistryException e) {
        if (!e.isTransient() || System.nanoTime() > deadline) {
          throw e;
        }
        waiting.accept("waiting for the schema registry " + shownUrl + " (" + e.getMessage() + ")");
        Thread.sleep(backoff);
        backoff = Math.min(10_000, backoff * 2);
      }
    }
  }

  /** The schema with a global id. */
  public Schema byId(int id) {
    Schema cached = byId.get(id);
    if (cached != null) {
      return cached;
    }
    JsonObject reply = call("GET", "/schemas/ids/" + id, null, "look up schema id " + id);
    Schema schema;
    try {
      schema = new Schema.Parser().parse(reply.get("schema").getAsString());
    } catch (RuntimeException e) {
      throw new RegistryException("schema id " + id + " from " + shownUrl + " is not an Avro schema: "
          + e.getMessage(), 200, -1, e);
    }
    byId.putIfAbsent(id, schema);
    return schema;
  }

  /** Whether {@code schema} is compatible with the latest version under {@code subject} (by the subject's rule). */
  public boolean isCompatible(String subject, Schema schema) {
    JsonObject body = new JsonObject();
    body.addProperty("schema", schema.toString());
    JsonObject reply = call("POST", "/compatibility/subjects/" + encode(subject) + "/versions/latest",
        body.toString(), "test compatibility under subject " + subject);
    return reply.has("is_compatible") && reply.get("is_compatible").getAsBoolean();
  }

  /** Sets a subject's compatibility rule, e.g. {@code BACKWARD_TRANSITIVE}. */
  public void setCompatibility(String subject, String level) {
    JsonObject body = new JsonObject();
    body.addProperty("compatibility", level);
    call("PUT", "/config/" + encode(subject), body.toString(), "set compatibility of " + subject);
  }

  private static String encode(String s) {
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private JsonObject call(String method, String path, String body, String what) {
    URI uri = URI.create(baseUrl + path);
    RegistryException last = null;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", CONTENT_TYPE);
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      request = body == null ? request.method(method, HttpRequest.BodyPublishers.noBody())
          : request.header("Content-Type", CONTENT_TYPE).method(method, HttpRequest.BodyPublishers.ofString(body));
      try {
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
          return GSON.fromJson(response.body(), JsonObject.class);
        }
        int code = -1;
        String message = response.body();
        try {
          JsonObject error = GSON.fromJson(response.body(), JsonObject.class);
          if (error != null && error.has("error_code")) {
            code = error.get("error_code").getAsInt();
            message = error.has("message") ? error.get("message").getAsString() : message;
          }
        } catch (JsonParseException ignored) {
          // not JSON: keep the raw body as the message
        }
        last = new RegistryException("schema registry " + shownUrl + " refused to " + what + ": HTTP " + status
            + (code > 0 ? " (error " + code + ")" : "") + ": " + message, status, code, null);
        if (status < 500 && status != 429) {
          throw last;
        }
      } catch (IOException e) {
        last = new RegistryException("schema registry " + shownUrl + " unreachable while trying to " + what + ": "
            + Secrets.maskUrl(e.toString()), -1, -1, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryException("interrupted while trying to " + what, -1, -1, e);
      }
      if (attempt < maxAttempts) {
        try {
          Thread.sleep(backoff.toMillis() << (attempt - 1));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new RegistryException("interrupted while trying to " + what, -1, -1, e);
        }
      }
    }
    throw last;
  }

  /** Builder: {@code setUrl} required. */
  public static final class Builder {
    private String url;
    private Duration timeout = Duration.ofSeconds(10);
    private int maxAttempts = 4;
    private Duration backoff = Duration.ofMillis(200);

    private Builder() {}

    /** The registry's base URL, e.g. {@code http://localhost:8081} or {@code http://host:8080/apis/ccompat/v7}. */
    public Builder setUrl(String url) {
      this.url = Objects.requireNonNull(url, "url");
      return this;
    }

    /** Per-request timeout. Default 10 s. */
    public Builder optTimeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Attempts per call for transient failures (>= 1). Default 4. */
    public Builder optMaxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** First retry delay, doubled each attempt. Default 200 ms. */
    public Builder optBackoff(Duration backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    public SchemaRegistryClient build() {
      if (url == null) {
        throw new IllegalStateException("SchemaRegistryClient needs setUrl");
      }
      try {
        URI.create(url); // fails early on a malformed URL
      } catch (IllegalArgumentException e) { // its message quotes the URL, user-info and all
        throw new IllegalArgumentException("malformed schema registry URL " + Secrets.maskUrl(url) + ": "
            + Secrets.maskUrl(e.getMessage()));
      }
      return new SchemaRegistryClient(this);
    }
  }
}

package io.fieldline.streams.registry;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * A minimal in-process stand-in for the Confluent schema-registry API, for unit tests of the client and serde only
 * (the integration tests run a real Apicurio registry). Compatibility uses Avro's own SchemaCompatibility
 * (BACKWARD: the new schema can read data written with every earlier one). Can be told to fail with 503.
 */
public final class FakeRegistry implements AutoCloseable {
  private static final Gson GSON = new Gson();
  private final HttpServer server;
  private final Map<String, Integer> ids = new HashMap<>();
  private final Map<Integer, String> schemas = new HashMap<>();
  private final Map<String, List<Schema>> subjects = new HashMap<>();
  final AtomicInteger failuresToInject = new AtomicInteger();
  /** POSTs answered 409 "already exists", as Apicurio answers the loser of two instances creating a subject at once. */
  final java.util.concurrent.atomic.AtomicInteger creationRacesToInject = new java.util.concurrent.atomic.AtomicInteger();
  final AtomicInteger calls = new AtomicInteger();

  public FakeRegistry() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The next {@code n} calls answer 503 (an outage); 0 ends it. */
  public void failNext(int n) {
    failuresToInject.set(n);
  }

  private volatile String lastAuthorization;

  /** The Authorization header of the last request (null if it had none). */
  public String lastAuthorization() {
    return lastAuthorization;
  }

  private synchronized void handle(HttpExchange ex) throws IOException {
    calls.incrementAndGet();
    lastAuthorization = ex.getRequestHeaders().getFirst("Authorization");
    String path = ex.getRequestURI().getPath();
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    if (failuresToInject.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      reply(ex, 503, error(50003, "registry warming up"));
      return;
    }
    String[] parts = path.split("/");
    if (ex.getRequestMethod().equals("POST") && path.matches("/subjects/[^/]+/versions")
        && creationRacesToInject.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      reply(ex, 409, error(409, "An artifact with ID '" + parts[2] + "' in group 'null' already exists."));
      return;
    }
    if (ex.getRequestMethod().equals("POST") && path.matches("/subjects/[^/]+/versions")) {
      String schema = GSON.fromJson(body, JsonObject.class).get("schema").getAsString();
      Schema parsed = new Schema.Parser().parse(schema);
      String subject = parts[2];
      List<Schema> history = subjects.computeIfAbsent(subject, k -> new ArrayList<>());
      for (Schema old : history) {
        if (!parsed.equals(old) && SchemaCompatibility.checkReaderWriterCompatibility(parsed, old).getType()
            != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
          reply(ex, 409, error(409, "Schema being registered is incompatible with an earlier schema"));
          return;
        }
      }
      int id = ids.computeIfAbsent(parsed.toString(), k -> ids.size() + 1);
      schemas.put(id, parsed.toString());
      if (!history.contains(parsed)) {
        history.add(parsed);
      }
      JsonObject o = new JsonObject();
      o.addProperty("id", id);
      reply(ex, 200, o.toString());
    } else if (ex.getRequestMethod().equals("GET") && path.matches("/schemas/ids/\\d+")) {
      String schema = schemas.get(Integer.parseInt(parts[3]));
      if (schema == null) {
        reply(ex, 404, error(40403, "Schema " + parts[3] + " not found"));
        return;
      }
      JsonObject o = new JsonObject();
      o.addProperty("schema", schema);
      reply(ex, 200, o.toString());
    } else if (ex.getRequestMethod().equals("POST") && path.matches("/compatibility/subjects/[^/]+/versions/latest")) {
      Schema parsed = new Schema.Parser().parse(GSON.fromJson(body, JsonObject.class).get("schema").getAsString());
      boolean ok = subjects.getOrDefault(parts[3], List.of()).stream().allMatch(old ->
          SchemaCompatibility.checkReaderWriterCompatibility(parsed, old).getType()
              == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
      JsonObject o = new JsonObject();
      o.addProperty("is_compatible", ok);
      reply(ex, 200, o.toString());
    } else if (ex.getRequestMethod().equals("PUT") && path.startsWith("/config/")) {
      reply(ex, 200, body);
    } else {
      reply(ex, 404, error(404, "no such endpoint " + path));
    }
  }

  private static String error(int code, String message) {
    JsonObject o = new JsonObject();
    o.addProperty("error_code", code);
    o.addProperty("message", message);
    return o.toString();
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

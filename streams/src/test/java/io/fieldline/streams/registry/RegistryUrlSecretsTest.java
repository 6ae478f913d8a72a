package io.fieldline.streams.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The registry client sends a URL's user-info as HTTP Basic credentials and never puts it (a password) into its
 * messages.
 */
class RegistryUrlSecretsTest {
  private static final String PASSWORD = "pw-7f3a9c";

  @Test
  void shouldMaskUserInfoInRefusals() throws Exception {
    try (FakeRegistry registry = new FakeRegistry()) {
      String url = registry.url().replace("http://", "http://fred:" + PASSWORD + "@");
      SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(url).optBackoff(Duration.ofMillis(1))
          .build();
      assertEquals(registry.url().replace("http://", "http://[hidden]@"), client.url());
      RegistryException e = assertThrows(RegistryException.class, () -> client.byId(999));
      assertEquals(404, e.status(), e.getMessage());
      assertTrue(e.getMessage().contains("http://[hidden]@127.0.0.1"), e.getMessage());
      assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
      assertEquals("Basic " + java.util.Base64.getEncoder().encodeToString(("fred:" + PASSWORD)
          .getBytes(java.nio.charset.StandardCharsets.UTF_8)), registry.lastAuthorization(),
          "the user-info goes to the registry as HTTP Basic credentials");
    }
  }

  @Test
  void shouldSendNoCredentialsWithoutUserInfo() throws Exception {
    try (FakeRegistry registry = new FakeRegistry()) {
      SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl(registry.url()).build();
      assertThrows(RegistryException.class, () -> client.byId(999));
      assertEquals(null, registry.lastAuthorization());
    }
  }

  @Test
  void shouldMaskUserInfoWhenUnreachable() throws Exception {
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nothing listens there
    }
    SchemaRegistryClient client = SchemaRegistryClient.builder().setUrl("http://fred:" + PASSWORD + "@127.0.0.1:"
        + port).optMaxAttempts(1).build();
    RegistryException e = assertThrows(RegistryException.class, () -> client.byId(1));
    assertTrue(e.getMessage().contains("unreachable"), e.getMessage());
    assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
  }

  @Test
  void shouldMaskUserInfoOfAMalformedUrl() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SchemaRegistryClient.builder().setUrl("http://fred:" + PASSWORD + "@reg istry:8081").build());
    assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
  }
}

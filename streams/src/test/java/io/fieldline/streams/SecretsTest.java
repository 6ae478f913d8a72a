package io.fieldline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretsTest {
  @Test
  void shouldHideSecretKeysAndKeepOrdinaryOnes() {
    for (String key : new String[] {"sasl.jaas.config", "ssl.key.password", "ssl.keystore.password",
        "ssl.truststore.password", "ssl.keystore.key", "sasl.oauthbearer.client.credentials.client.secret",
        "sasl.oauthbearer.assertion.private.key.passphrase", "basic.auth.user.info", "SASL.JAAS.CONFIG",
        "listener.name.external.plain.sasl.jaas.config", "my.api.token"}) {
      assertTrue(Secrets.isSecret(key), key);
    }
    for (String key : new String[] {"security.protocol", "sasl.mechanism", "bootstrap.servers", "key.serializer",
        "default.key.serde", "ssl.keystore.location", "ssl.keystore.type", "ssl.truststore.location",
        "application.id", "processing.guarantee"}) {
      assertFalse(Secrets.isSecret(key), key);
    }
  }

  @Test
  void shouldMaskUserInfoOfUrls() {
    assertEquals("http://[hidden]@registry:8081/apis/ccompat/v7",
        Secrets.maskUrl("http://fred:s3cr%40t@registry:8081/apis/ccompat/v7"));
    assertEquals("https://[hidden]@host", Secrets.maskUrl("https://token@host"));
    assertEquals("http://[hidden]@a:1,http://[hidden]@b:2", Secrets.maskUrl("http://u:p@a:1,http://v:q@b:2"));
    assertEquals("http://registry:8081/subjects/a@b", Secrets.maskUrl("http://registry:8081/subjects/a@b"));
    assertEquals("http://registry:8081", Secrets.maskUrl("http://registry:8081"));
    assertEquals("broker:9092", Secrets.maskUrl("broker:9092"));
  }

  @Test
  void shouldDescribeSettingsSortedWithSecretsHidden() {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("security.protocol", "SASL_SSL");
    settings.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
        + "username=\"alice\" password=\"alice-secret\";");
    settings.put("bootstrap.servers", "broker:9092");
    settings.put("ssl.key.password", "k3y");
    settings.put("some.url", "http://u:pw@host");
    String line = Secrets.describe(settings);
    assertEquals("bootstrap.servers=broker:9092, sasl.jaas.config=[hidden], security.protocol=SASL_SSL, "
        + "some.url=http://[hidden]@host, ssl.key.password=[hidden]", line);
    assertFalse(line.contains("alice-secret"));
  }
}

package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The serving runtime (this module alone): its commands, no trainer or local broker, a clear word on the others. */
class ServingRuntimeTest {
  @Test
  void shouldOfferTheServingCommandsWithoutTheTrainerOrTheLocalBroker() {
    assertEquals(Set.of("serve", "submit", "cancel", "schemas", "encode", "interpolate", "likelihood", "generate",
        "help"),
        Fieldline.commandLine().getSubcommands().keySet());
    assertThrows(ClassNotFoundException.class, () -> Class.forName("io.fieldline.trainer.FieldTrainer"));
    assertThrows(ClassNotFoundException.class, () -> Class.forName("ai.djl.pytorch.engine.PtEngine"));
    assertThrows(ClassNotFoundException.class, () -> Class.forName("io.fieldline.local.LocalKafka"));
    assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.kafka.common.test.KafkaClusterTestKit"));
  }

  @Test
  void shouldSayWhereATrainingCommandLives() {
    StringWriter err = new StringWriter();
    int status = Fieldline.execute(Map.of(), new PrintWriter(new StringWriter()), new PrintWriter(err), "train",
        "--kind", "pfgmpp", "--out", "x");
    assertEquals(Fieldline.EXIT_USAGE, status);
    assertTrue(err.toString().contains("'train' is a command of the full distribution"), err.toString());
  }
}

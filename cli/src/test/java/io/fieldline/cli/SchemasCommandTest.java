package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.schemas.GenerationRequest;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** The printed schemas stand alone: each parses with a fresh parser, no other file needed. */
class SchemasCommandTest {
  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Fieldline.execute(new PrintWriter(out), new PrintWriter(err), args);
    return new String[] {Integer.toString(status), out.toString(), err.toString()};
  }

  @Test
  void shouldPrintSelfContainedSchemasAProducerCanRegisterAsTheyAre() {
    String[] all = run("schemas", "print");
    assertEquals("0", all[0], all[2]);
    String[] lines = all[1].strip().split("\n");
    assertEquals(4, lines.length);
    for (String line : lines) {
      Schema parsed = new Schema.Parser().parse(line); // a fresh parser: no named type defined elsewhere
      assertEquals(SchemasCommand.clientSchemas().get(parsed.getName()), parsed);
    }
    String[] one = run("schemas", "print", "GenerationRequest");
    assertEquals(GenerationRequest.getClassSchema(), new Schema.Parser().parse(one[1]));
    assertTrue(one[1].contains("\"name\" : \"SamplerSpec\""), "SamplerSpec is defined inline");
    String[] bad = run("schemas", "print", "Nope");
    assertEquals("2", bad[0]);
    assertTrue(bad[2].contains("unknown record 'Nope'"), bad[2]);
    assertEquals("2", run("schemas", "register")[0], "register needs --registry");
  }
}

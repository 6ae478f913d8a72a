package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.fail;

import io.fieldline.cli.internal.ConfigReference;
import io.fieldline.cli.internal.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docs/CONFIGURATION.md's settings tables and docs/CLI.md are generated from the picocli model; this test fails when
 * they are stale. Regenerate both with
 * {@code mvn -o -q -pl cli/tools test -Dtest=ConfigReferenceTest -Dfieldline.writeDocs=true}, then review the diff.
 */
class ConfigReferenceTest {
  private static final String REGENERATE = "mvn -o -q -pl cli/tools test -Dtest=ConfigReferenceTest "
      + "-Dfieldline.writeDocs=true";

  /** The command line with built-in defaults only (no config file, empty environment). */
  private static CommandLine model() {
    CommandLine cli = Fieldline.commandLine();
    Settings.install(cli, new String[0], Map.of());
    return cli;
  }

  private static Path docs() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("docs/CONFIGURATION.md"))) {
        return p.resolve("docs");
      }
    }
    throw new IllegalStateException("docs/CONFIGURATION.md not found above " + Path.of("").toAbsolutePath());
  }

  @Test
  void configurationReferenceListsEverySettingOfTheCode() throws IOException {
    String tables = ConfigReference.settingsTables(model());
    check(docs().resolve("CONFIGURATION.md"), doc -> ConfigReference.replaceGenerated(doc, tables));
  }

  @Test
  void cliReferenceIsTheCurrentHelp() throws IOException {
    String reference = ConfigReference.cliReference(model());
    check(docs().resolve("CLI.md"), doc -> reference);
  }

  private static void check(Path file, UnaryOperator<String> regenerate) throws IOException {
    String actual = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    String expected = regenerate.apply(actual);
    if (expected.equals(actual)) {
      return;
    }
    if (Boolean.getBoolean("fieldline.writeDocs")) {
      Files.writeString(file, expected, StandardCharsets.UTF_8);
      return;
    }
    String[] a = actual.split("\n", -1);
    String[] e = expected.split("\n", -1);
    int line = 0;
    while (line < a.length && line < e.length && a[line].equals(e[line])) {
      line++;
    }
    fail("docs/" + file.getFileName() + " is stale (it is generated from the commands' options); regenerate it with\n  "
        + REGENERATE + "\nand commit the result. First difference at line " + (line + 1) + ":\n  file: "
        + (line < a.length ? a[line] : "<end>") + "\n  code: " + (line < e.length ? e[line] : "<end>"));
  }
}

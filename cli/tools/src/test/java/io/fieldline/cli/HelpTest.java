package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.cli.internal.SettingRules;
import io.fieldline.cli.internal.Settings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;

class HelpTest {
  private static CommandLine model() {
    CommandLine cli = Fieldline.commandLine();
    Settings.install(cli, new String[0], Map.of());
    return cli;
  }

  private static List<CommandLine> commands() {
    CommandLine root = model();
    List<CommandLine> all = new ArrayList<>(List.of(root));
    root.getSubcommands().values().stream().filter(c -> !(c.getCommand() instanceof CommandLine.HelpCommand))
        .forEach(all::add);
    return all;
  }

  @Test
  void rulesNameRealFlags() {
    CommandLine cli = Fieldline.commandLine();
    for (String key : SettingRules.keys()) {
      int dot = key.indexOf('.');
      boolean found = false;
      for (CommandLine c : cli.getSubcommands().values()) {
        if (dot < 0 || c.getCommandName().equals(key.substring(0, dot))) {
          found |= c.getCommandSpec().findOption("--" + key.substring(dot + 1)) != null;
        }
      }
      assertTrue(found, "SettingRules has '" + key + "' but no command has that flag");
    }
  }

  @Test
  void fullDistributionAddsExactlyTheCommandsTheServingRuntimeLacks() {
    java.util.Set<String> added = new java.util.HashSet<>();
    new ToolCommands().commands().forEach(c -> added.add(new CommandLine(c).getCommandName()));
    assertEquals(Settings.FULL_DISTRIBUTION_COMMANDS, added, "the serving runtime accepts config keys of these");
    assertTrue(model().getSubcommands().keySet().containsAll(added));
  }

  @Test
  void everyCommandPrintsItsHelpAndExitsZero() {
    for (CommandLine c : commands()) {
      List<String> args = new ArrayList<>();
      if (c.getParent() != null) {
        args.add(c.getCommandName());
      }
      args.add("--help");
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int status = Fieldline.execute(Map.of(), new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
      String name = c.getCommandSpec().qualifiedName();
      assertEquals(0, status, name + " --help: " + err);
      assertTrue(out.toString().startsWith("Usage: " + name), name + " --help printed: " + out);
      assertTrue(out.toString().contains("--config=FILE"), name + " --help lists --config");
      assertEquals("", err.toString(), name + " --help wrote to stderr");
    }
  }

  @Test
  void everyOptionAndParameterHasADescription() {
    for (CommandLine c : commands()) {
      List<ArgSpec> args = new ArrayList<>(c.getCommandSpec().args());
      assertFalse(args.isEmpty());
      for (ArgSpec a : args) {
        String text = String.join(" ", a.description()).trim();
        assertFalse(text.isEmpty(), c.getCommandSpec().qualifiedName() + " " + a.paramLabel() + " "
            + (a.isOption() ? String.join("/", ((CommandLine.Model.OptionSpec) a).names()) : "")
            + " has no description");
      }
    }
  }

  @Test
  void helpCommandExplainsASubcommand() {
    StringWriter out = new StringWriter();
    int status = Fieldline.execute(Map.of(), new PrintWriter(out), new PrintWriter(new StringWriter()), "help",
        "serve");
    assertEquals(0, status);
    assertTrue(out.toString().startsWith("Usage: fieldline serve"), out.toString());
  }
}

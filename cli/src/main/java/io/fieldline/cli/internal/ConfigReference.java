package io.fieldline.cli.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The generated parts of docs/CONFIGURATION.md (a table of every setting per command) and docs/CLI.md (every
 * command's --help), from the picocli model, so the documents cannot drift from the code unnoticed (ConfigReferenceTest
 * compares them).
 */
public final class ConfigReference {
  /** The line before the generated tables in docs/CONFIGURATION.md. */
  public static final String BEGIN = "<!-- BEGIN GENERATED SETTINGS: do not edit by hand (see ConfigReferenceTest) -->";
  /** The line after them. */
  public static final String END = "<!-- END GENERATED SETTINGS -->";

  private ConfigReference() {}

  /**
   * The per-command tables: flag, file key, environment variable, default, allowed values and description. The
   * command line must carry the built-in defaults only (settings installed from an empty environment).
   */
  public static String settingsTables(CommandLine root) {
    StringBuilder sb = new StringBuilder();
    for (CommandLine sub : root.getSubcommands().values()) {
      CommandSpec spec = sub.getCommandSpec();
      List<OptionSpec> options = new ArrayList<>();
      for (OptionSpec o : spec.options()) {
        if (Settings.settable(o)) {
          options.add(o);
        }
      }
      if (options.isEmpty()) {
        continue;
      }
      String name = spec.name();
      sb.append("### ").append(spec.qualifiedName()).append("\n\n");
      sb.append("| Flag | File key | Environment variable | Default | Allowed | Description |\n");
      sb.append("|---|---|---|---|---|---|\n");
      for (OptionSpec o : options) {
        String key = Settings.key(o);
        String flag = String.join(", ", o.names()) + (o.arity().max() > 0 ? " " + o.paramLabel() : "");
        String fileKey;
        String env;
        if (Settings.isMap(o)) {
          fileKey = "[" + name + ".]" + key + ".KEY";
          env = Settings.ENV_PREFIX + "[" + name.toUpperCase(Locale.ROOT) + "_]"
              + key.toUpperCase(Locale.ROOT).replace('-', '_') + "_KEY";
        } else {
          fileKey = "[" + name + ".]" + key;
          env = Settings.ENV_PREFIX + "[" + name.toUpperCase(Locale.ROOT) + "_]"
              + key.toUpperCase(Locale.ROOT).replace('-', '_');
        }
        String description = String.join(" ", o.description()).trim();
        String dflt = o.defaultValue();
        int at = description.toLowerCase(Locale.ROOT).lastIndexOf("default:");
        if (at >= 0) { // "... Default: X." goes into its own column
          if (dflt == null) {
            dflt = description.substring(at + "default:".length()).trim().replaceAll("\\.$", "");
          }
          String rest = description.substring(0, at).trim().replaceAll("[;,]$", ".");
          description = rest.isEmpty() ? description : rest;
        }
        if (dflt == null) {
          dflt = o.required() ? "required" : o.type() == boolean.class ? "false" : "none";
        }
        SettingRules.Check check = SettingRules.check(name, key);
        sb.append("| ").append(code(flag)).append(" | ").append(code(fileKey)).append(" | ").append(code(env))
            .append(" | ").append(cell(dflt)).append(" | ").append(check == null ? "" : cell(check.requirement()))
            .append(" | ").append(cell(description)).append(" |\n");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** docs/CLI.md: every command's --help at 80 columns. */
  public static String cliReference(CommandLine root) {
    StringBuilder sb = new StringBuilder("# `fieldline` command reference\n\n");
    sb.append("Generated from `--help` (ConfigReferenceTest checks it); run `./fieldline <command> --help` for the "
        + "current text. Where each flag can also be set (config file, environment): "
        + "[CONFIGURATION.md](CONFIGURATION.md).\n");
    List<CommandLine> all = new ArrayList<>();
    all.add(root);
    for (CommandLine sub : root.getSubcommands().values()) {
      if (!(sub.getCommand() instanceof CommandLine.HelpCommand)) {
        all.add(sub);
      }
    }
    for (CommandLine c : all) {
      c.setUsageHelpWidth(80);
      sb.append("\n## ").append(c.getCommandSpec().qualifiedName()).append("\n\n```\n")
          .append(c.getUsageMessage(CommandLine.Help.Ansi.OFF).stripTrailing()).append("\n```\n");
    }
    return sb.toString();
  }

  /** Replaces the text between {@link #BEGIN} and {@link #END} in a document. */
  public static String replaceGenerated(String document, String generated) {
    int begin = document.indexOf(BEGIN);
    int end = document.indexOf(END);
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException("the document lacks the markers " + BEGIN + " and " + END);
    }
    return document.substring(0, begin + BEGIN.length()) + "\n\n" + generated + document.substring(end);
  }

  private static String code(String text) {
    return "`" + text.replace("|", "\\|") + "`"; // GitHub splits cells at | even inside code
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ");
  }
}

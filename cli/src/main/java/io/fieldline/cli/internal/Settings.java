package io.fieldline.cli.internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Settings from a properties file and from environment variables, below the flags: flags beat the environment, which
 * beats the file. Installed on every command as picocli's default-value provider, so a value from the file or the
 * environment is converted and checked exactly as the same flag would be.
 *
 * <ul>
 *   <li>File ({@code --config FILE} or {@code FIELDLINE_CONFIG}): keys are long flag names without dashes
 *       ({@code batch=32}), optionally prefixed by the command ({@code serve.batch=32}, which wins for serve).
 *       Map flags take one key per entry: {@code kafka.sasl.mechanism=PLAIN}, {@code alias.NAME=SPEC},
 *       {@code label.KEY=VALUE}. A key no command knows fails at start.
 *   <li>Environment: {@code FIELDLINE_BATCH}, beaten by {@code FIELDLINE_SERVE_BATCH} (upper case, '-' becomes '_').
 *       Map flags: {@code FIELDLINE_KAFKA_SASL_MECHANISM} (key lower-cased; '_' becomes '.' for kafka, '-' for alias
 *       and stays '_' otherwise). Empty variables count as unset.
 *   <li>Map flags merge: file, then environment, then the flags' own entries, each winning per key.
 * </ul>
 *
 * <p>After parsing, every value is checked against {@link SettingRules}; a failure names the flag, the bound, the
 * value and where it was set.
 */
public final class Settings implements CommandLine.IDefaultValueProvider {
  /** Prefix of the environment variables. */
  public static final String ENV_PREFIX = "FIELDLINE_";
  /** The environment variable naming the config file (beaten by {@code --config}). */
  public static final String CONFIG_ENV = "FIELDLINE_CONFIG";
  /** The flag naming the config file. */
  public static final String CONFIG_FLAG = "--config";

  /** Where a value came from. */
  public record Source(String value, String where) {}

  /** A bad setting: one line, exit status 2. */
  public static final class SettingException extends CommandLine.ParameterException {
    private static final long serialVersionUID = 1L;

    SettingException(CommandLine commandLine, String message) {
      super(commandLine, message);
    }
  }

  private final Map<String, String> env;
  private final Map<String, String> file;
  private final String fileName;
  private final Map<ArgSpec, Source> supplied = new IdentityHashMap<>();

  private Settings(Map<String, String> env, Map<String, String> file, String fileName) {
    this.env = env;
    this.file = file;
    this.fileName = fileName;
  }

  /**
   * Adds {@code --config FILE} to the command and its subcommands, reads the config file ({@code --config} in
   * {@code args}, else {@code FIELDLINE_CONFIG} in {@code env}), checks its keys, and installs the settings as the
   * default-value provider and their checks before execution.
   *
   * @throws SettingException for a config file that cannot be read or holds a key no command knows
   */
  public static Settings install(CommandLine root, String[] args, Map<String, String> env) {
    addConfigOption(root);
    CommandLine target = target(root, args);
    String given = configArgument(args);
    String where = "set by " + CONFIG_FLAG;
    if (given == null && nonEmpty(env.get(CONFIG_ENV))) {
      given = env.get(CONFIG_ENV);
      where = "set by environment variable " + CONFIG_ENV;
    }
    Map<String, String> file = given == null ? Map.of() : read(target, given, where);
    Settings settings = new Settings(Map.copyOf(env), file, given);
    settings.checkKeys(root, target);
    if (given != null) {
      warnIfSecretsAreReadable(root, Path.of(given), file);
    }
    root.setDefaultValueProvider(settings);
    CommandLine.IExecutionStrategy run = root.getExecutionStrategy();
    root.setExecutionStrategy(parseResult -> {
      settings.apply(parseResult);
      return run.execute(parseResult);
    });
    return settings;
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option) || !settable(option) || isMap(option)) {
      return null;
    }
    Source source = lookup(option.command().name(), key(option));
    if (source == null) {
      return null;
    }
    supplied.put(option, source);
    return source.value();
  }

  /**
   * One line for a bad setting: the message of a {@link SettingException}, or, for a value picocli could not convert,
   * the flag, what it must be, the value and its source. Null for other parse errors.
   */
  public String explain(CommandLine.ParameterException ex) {
    if (ex instanceof SettingException) {
      return ex.getMessage();
    }
    if (!(ex.getArgSpec() instanceof OptionSpec option) || ex.getValue() == null
        || ex.getClass() != CommandLine.ParameterException.class
        || !String.valueOf(ex.getMessage()).startsWith("Invalid value for option")) {
      return null;
    }
    SettingRules.Check check = SettingRules.check(option.command().name(), key(option));
    String must = check != null ? check.requirement() : typeName(option.type());
    Source source = supplied.get(option);
    return "invalid " + option.longestName() + ": must be " + must + ", got '" + ex.getValue() + "' ("
        + (source != null ? source.where() : "set on the command line") + ")";
  }

  /** The long flag name without dashes: the file key and the core of the environment variable. */
  public static String key(OptionSpec option) {
    return option.longestName().replaceFirst("^-+", "");
  }

  /** The environment variable of a key, for one command ({@code FIELDLINE_SERVE_BATCH}) or all (null command). */
  public static String envName(String command, String key) {
    return ENV_PREFIX + (command == null ? "" : command.toUpperCase(Locale.ROOT) + "_")
        + key.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** Whether an option can come from the file or the environment (not help, version or --config). */
  public static boolean settable(OptionSpec option) {
    return !option.usageHelp() && !option.versionHelp() && !option.longestName().equals(CONFIG_FLAG);
  }

  /** Whether an option takes KEY=VALUE entries. */
  public static boolean isMap(OptionSpec option) {
    return Map.class.isAssignableFrom(option.type());
  }

  /** How a map option's environment suffix becomes its key: '_' to '.' for kafka, '-' for alias, else kept. */
  public static char envKeySeparator(String key) {
    return switch (key) {
      case "kafka" -> '.';
      case "alias" -> '-';
      default -> '_';
    };
  }

  private Source lookup(String command, String key) {
    for (String name : new String[] {envName(command, key), envName(null, key)}) {
      if (nonEmpty(env.get(name))) {
        return new Source(env.get(name).trim(), "set by environment variable " + name);
      }
    }
    for (String name : new String[] {command + "." + key, key}) {
      if (file.containsKey(name)) {
        return new Source(file.get(name).trim(), "set in " + fileName);
      }
    }
    return null;
  }

  /** Merges the map options' entries and checks every value of the commands that run. */
  private void apply(ParseResult parseResult) {
    for (ParseResult pr = parseResult; pr != null; pr = pr.subcommand()) {
      if (pr.isUsageHelpRequested() || pr.isVersionHelpRequested()) {
        return;
      }
    }
    for (ParseResult pr = parseResult; pr != null; pr = pr.subcommand()) {
      CommandSpec spec = pr.commandSpec();
      for (OptionSpec option : spec.options()) {
        if (!settable(option)) {
          continue;
        }
        if (isMap(option)) {
          mergeMap(spec.name(), option);
        } else {
          check(pr, option);
        }
      }
    }
  }

  private void mergeMap(String command, OptionSpec option) {
    String key = key(option);
    Map<String, String> merged = new LinkedHashMap<>();
    for (String prefix : new String[] {key + ".", command + "." + key + "."}) {
      file.forEach((k, v) -> {
        if (k.startsWith(prefix) && k.length() > prefix.length()) {
          merged.put(k.substring(prefix.length()), v);
        }
      });
    }
    char separator = envKeySeparator(key);
    for (String prefix : new String[] {envName(null, key) + "_", envName(command, key) + "_"}) {
      env.forEach((k, v) -> {
        if (k.startsWith(prefix) && k.length() > prefix.length() && nonEmpty(v) && !isOptionEnv(option, k)) {
          merged.put(k.substring(prefix.length()).toLowerCase(Locale.ROOT).replace('_', separator), v);
        }
      });
    }
    Map<?, ?> flags = option.getValue();
    if (merged.isEmpty()) {
      return;
    }
    if (flags != null) {
      flags.forEach((k, v) -> merged.put(String.valueOf(k), String.valueOf(v)));
    }
    option.setValue(merged);
  }

  /** Whether an environment variable is a plain option's ({@code FIELDLINE_KAFKA_CONFIG} is --kafka-config's). */
  private static boolean isOptionEnv(OptionSpec mapOption, String name) {
    String command = mapOption.command().name();
    for (OptionSpec o : mapOption.command().options()) {
      if (o != mapOption && settable(o) && (name.equals(envName(null, key(o))) || name.equals(envName(command, key(o))))) {
        return true;
      }
    }
    return false;
  }

  private void check(ParseResult pr, OptionSpec option) {
    SettingRules.Check check = SettingRules.check(pr.commandSpec().name(), key(option));
    Object value = option.getValue();
    if (check == null || value == null || check.accepts().test(value)) {
      return;
    }
    String where = pr.hasMatchedOption(option) ? "set on the command line"
        : supplied.containsKey(option) ? supplied.get(option).where() : "the default";
    throw new SettingException(pr.commandSpec().commandLine(), "invalid " + option.longestName() + ": must be "
        + check.requirement() + ", got " + value + " (" + where + ")");
  }

  /**
   * The commands of the full distribution that the serving runtime lacks: a config file shared by both may scope keys
   * to them (train.ema=...), and the serving runtime accepts such keys without checking them.
   */
  public static final java.util.Set<String> FULL_DISTRIBUTION_COMMANDS = java.util.Set.of("demo", "train", "export",
      "quantize", "eval", "classifier");

  private void checkKeys(CommandLine root, CommandLine target) {
    List<String> problems = new ArrayList<>();
    for (String k : file.keySet()) {
      String rest = k;
      CommandLine scope = null;
      int dot = k.indexOf('.');
      if (dot > 0 && !root.getSubcommands().containsKey(k.substring(0, dot))
          && FULL_DISTRIBUTION_COMMANDS.contains(k.substring(0, dot))) {
        continue; // a key of a command this runtime does not have: the full distribution checks it
      }
      if (dot > 0 && root.getSubcommands().containsKey(k.substring(0, dot))) {
        scope = root.getSubcommands().get(k.substring(0, dot));
        rest = k.substring(dot + 1);
      }
      boolean known = false;
      for (CommandLine c : scope != null ? List.of(scope) : root.getSubcommands().values()) {
        known |= knows(c.getCommandSpec(), rest);
      }
      if (!known) {
        problems.add("'" + k + "' (" + (scope != null ? scope.getCommandName() + " has no --" + rest
            : "no command has --" + rest) + ")");
      }
    }
    if (!problems.isEmpty()) {
      throw new SettingException(target, "unknown setting" + (problems.size() > 1 ? "s " : " ")
          + String.join(", ", problems) + " in " + fileName + "; keys are FLAG or COMMAND.FLAG without dashes (e.g. "
          + "batch, serve.batch, kafka.security.protocol), see docs/CONFIGURATION.md");
    }
  }

  private static boolean knows(CommandSpec spec, String key) {
    for (OptionSpec o : spec.options()) {
      if (!settable(o)) {
        continue;
      }
      String name = key(o);
      if (isMap(o) ? key.startsWith(name + ".") && key.length() > name.length() + 1 : key.equals(name)) {
        return true;
      }
    }
    return false;
  }

  private static Map<String, String> read(CommandLine target, String given, String where) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(Path.of(given), StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (NoSuchFileException e) {
      throw new SettingException(target, "config file " + given + " (" + where + ") does not exist");
    } catch (IOException | IllegalArgumentException e) {
      throw new SettingException(target, "cannot read config file " + given + " (" + where + "): " + e.getMessage());
    }
    Map<String, String> file = new LinkedHashMap<>();
    p.stringPropertyNames().stream().sorted().forEach(k -> file.put(k.trim(), p.getProperty(k)));
    return file;
  }

  /** A warning on stderr when the file holds a secret and users other than its owner may read it. */
  private static void warnIfSecretsAreReadable(CommandLine root, Path path, Map<String, String> file) {
    String secret = file.keySet().stream().filter(io.fieldline.streams.Secrets::isSecret).findFirst().orElse(null);
    if (secret == null) {
      return;
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
      if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
        root.getErr().println("warning: " + path + " holds " + secret + " and users other than its owner can read "
            + "it (chmod 600 " + path + ")");
        root.getErr().flush();
      }
    } catch (IOException | UnsupportedOperationException e) {
      // no POSIX permissions here (Windows): nothing to say
    }
  }

  private static void addConfigOption(CommandLine cl) {
    if (cl.getCommandSpec().findOption(CONFIG_FLAG) == null && !(cl.getCommand() instanceof CommandLine.HelpCommand)) {
      cl.getCommandSpec().addOption(OptionSpec.builder(CONFIG_FLAG).paramLabel("FILE").type(Path.class)
          .description("Settings file (properties: batch=32, serve.batch=32, kafka.KEY=VALUE); FIELDLINE_* "
              + "environment variables and flags win over it. Default: $" + CONFIG_ENV + ", else none. See "
              + "docs/CONFIGURATION.md.")
          .build());
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      addConfigOption(sub);
    }
  }

  /** The value of --config in the arguments, or null. */
  static String configArgument(String[] args) {
    String value = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--")) {
        break;
      }
      if (args[i].equals(CONFIG_FLAG) && i + 1 < args.length) {
        value = args[++i];
      } else if (args[i].startsWith(CONFIG_FLAG + "=")) {
        value = args[i].substring(CONFIG_FLAG.length() + 1);
      }
    }
    return value;
  }

  /** The subcommand the arguments name (for messages before parsing), or the root. */
  private static CommandLine target(CommandLine root, String[] args) {
    for (String a : args) {
      if (root.getSubcommands().containsKey(a)) {
        return root.getSubcommands().get(a);
      }
    }
    return root;
  }

  private static String typeName(Class<?> type) {
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      return "an integer";
    }
    if (type == double.class || type == Double.class) {
      return "a number";
    }
    if (type == boolean.class || type == Boolean.class) {
      return "true or false";
    }
    if (type == Duration.class) {
      return "an ISO-8601 duration (e.g. PT30S, PT5M)";
    }
    return "a " + type.getSimpleName();
  }

  private static boolean nonEmpty(String s) {
    return s != null && !s.isBlank();
  }
}

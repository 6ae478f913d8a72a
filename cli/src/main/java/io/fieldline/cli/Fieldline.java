package io.fieldline.cli;

import io.fieldline.cli.internal.Settings;
import io.fieldline.core.data.DatasetException;
import io.fieldline.server.ModelException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code fieldline} command. Exit status: 0 success, 1 some work failed (see the message), 2 bad input (flags,
 * model, data, Kafka credentials), 3 internal error.
 */
@Command(name = "fieldline", mixinStandardHelpOptions = true, versionProvider = Fieldline.Version.class,
    description = "Poisson Flow generative models (PFGM, PFGM++): serve and generate images (the full distribution "
        + "also trains, exports, quantizes and evaluates field networks).",
    subcommands = {ServeCommand.class, SubmitCommand.class, CancelCommand.class, SchemasCommand.class,
        EncodeCommand.class, InterpolateCommand.class, LikelihoodCommand.class, GenerateCommand.class,
        CommandLine.HelpCommand.class})
public final class Fieldline implements Runnable {
  /** Exit status for bad input. */
  public static final int EXIT_USAGE = 2;
  /** Exit status for an unexpected failure. */
  public static final int EXIT_INTERNAL = 3;
  /**
   * The models folder: {@code models/} of the checkout that {@code ./fieldline} runs from (it passes
   * {@code -Dfieldline.home}), else {@code ./models}. A picocli default value, interpolated when the command is parsed.
   */
  public static final String MODELS_DIR = "${sys:fieldline.home:-.}/models";
  /**
   * The bundled model {@code generate} and {@code demo} default to: the int8 PFGM++ (D = 128) Fashion-MNIST network in
   * {@link #MODELS_DIR}, made from {@link #BUNDLED_FLOAT_MODEL} by {@code fieldline quantize}; at the float network's
   * sampler its FD is within 5% of the float one's (docs/QUALITY.md), at about twice the images/s.
   */
  public static final String BUNDLED_MODEL = "fmnist-pfgmpp-int8";
  /**
   * The float32 network of {@link #BUNDLED_MODEL}, the default of {@code interpolate}: encoding inverts the ODE, which
   * wants the smooth float field rather than int8's steps.
   */
  public static final String BUNDLED_FLOAT_MODEL = "fmnist-pfgmpp";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * The command line: the serving commands, plus those of every {@link CommandProvider} on the classpath (the
   * training and demo commands of the full distribution).
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Fieldline());
    List<Object> more = new java.util.ArrayList<>();
    java.util.ServiceLoader.load(CommandProvider.class).forEach(p -> more.addAll(p.commands()));
    if (more.isEmpty()) {
      cli.getCommandSpec().usageMessage().footer("", "This is the serving runtime. The full distribution "
          + "(./fieldline, built from cli/tools) adds demo, train, export, quantize, eval and classifier.");
      return cli;
    }
    cli.getCommandSpec().removeSubcommand("help"); // keep help last in the listing
    more.forEach(cli::addSubcommand);
    cli.addSubcommand(new CommandLine.HelpCommand());
    return cli;
  }

  /** Runs the command line and returns the exit status (for tests and for {@link #main}). */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    return execute(System.getenv(), out, err, args);
  }

  /**
   * Runs the command line with settings from {@code env} (FIELDLINE_* variables, FIELDLINE_CONFIG) and returns the
   * exit status; see docs/CONFIGURATION.md.
   */
  public static int execute(Map<String, String> env, PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = commandLine();
    cli.setOut(out);
    cli.setErr(err);
    Settings settings;
    try {
      settings = Settings.install(cli, args, env);
    } catch (Settings.SettingException ex) {
      err.println(ex.getCommandLine().getCommandSpec().qualifiedName() + ": " + ex.getMessage());
      err.flush();
      return EXIT_USAGE;
    }
    cli.setParameterExceptionHandler((ex, a) -> {
      CommandLine c = ex.getCommandLine();
      String setting = settings.explain(ex);
      if (setting != null) {
        c.getErr().println(c.getCommandSpec().qualifiedName() + ": " + setting);
        c.getErr().flush();
        return EXIT_USAGE;
      }
      if (c.getParent() == null && a.length > 0 && Settings.FULL_DISTRIBUTION_COMMANDS.contains(a[0])
          && !c.getSubcommands().containsKey(a[0])) {
        c.getErr().println("fieldline: '" + a[0] + "' is a command of the full distribution (./fieldline, built from "
            + "cli/tools); this is the serving runtime, which has " + String.join(", ", c.getSubcommands().keySet()));
        c.getErr().flush();
        return EXIT_USAGE;
      }
      c.getErr().println(c.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
      c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for the flags.");
      c.getErr().flush();
      return EXIT_USAGE;
    });
    cli.setExecutionExceptionHandler((ex, c, parseResult) -> {
      String name = c.getCommandSpec().qualifiedName();
      if (ex instanceof IllegalArgumentException || ex instanceof ModelException || ex instanceof DatasetException
          || ex instanceof UsageException) {
        c.getErr().println(name + ": " + ex.getMessage());
        c.getErr().flush();
        return EXIT_USAGE;
      }
      Throwable refused = kafkaRefusal(ex);
      if (refused != null) { // wrong credentials or missing ACLs: the user's settings, not a bug
        c.getErr().println(name + ": Kafka refused this client (check security.protocol, sasl.mechanism, "
            + "sasl.jaas.config and ACLs): " + refused.getMessage());
        c.getErr().flush();
        return EXIT_USAGE;
      }
      if (ex instanceof io.fieldline.streams.registry.RegistryException
          || ex instanceof IllegalStateException && ex.getMessage() != null
          && (ex.getMessage().contains("broker") || ex.getMessage().contains("topics"))) {
        // The registry or the broker did not answer or refused: the environment, not a bug; one line, status 1.
        c.getErr().println(name + ": " + ex.getMessage());
        c.getErr().flush();
        return 1;
      }
      c.getErr().println(name + ": internal error: " + ex);
      if (Boolean.getBoolean("fieldline.debug")) {
        ex.printStackTrace(c.getErr());
      } else {
        c.getErr().println("(run with JAVA_OPTS=-Dfieldline.debug=true for the stack trace)");
      }
      c.getErr().flush();
      return EXIT_INTERNAL;
    });
    return cli.execute(args);
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(execute(out, err, args));
  }

  /** The Kafka authentication or authorization failure behind {@code ex}, or null. */
  private static Throwable kafkaRefusal(Throwable ex) {
    for (Throwable t = ex; t != null && t != t.getCause(); t = t.getCause()) {
      if (t instanceof org.apache.kafka.common.errors.AuthenticationException
          || t instanceof org.apache.kafka.common.errors.AuthorizationException) {
        return t;
      }
    }
    return null;
  }

  /**
   * {@code settings} with a --guidance flag applied (null: as they are), refused with a usage error when out of range
   * or given for an unconditional model.
   */
  static io.fieldline.core.SamplerSettings withGuidance(io.fieldline.core.SamplerSettings settings, Double guidance,
      io.fieldline.core.FieldModel model) {
    if (guidance == null) {
      return settings;
    }
    if (model.classes().isEmpty() && guidance != 1) {
      throw new UsageException("--guidance needs a class-conditional model; " + model.name() + " is unconditional");
    }
    try {
      return settings.withGuidance(guidance);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--guidance: " + e.getMessage());
    }
  }

  /** Bad input found after parsing (one line, exit status 2). */
  public static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
      super(message);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Fieldline.class.getPackage().getImplementationVersion();
      return new String[] {"fieldline " + (v == null ? "dev" : v)};
    }
  }
}

package io.fieldline.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of a command that writes a model bundle ({@code export}, {@code quantize}): where, and under which name
 * and version. Carries its own {@code --help}, because picocli's standard help mixin brings a {@code --version} that
 * would clash with the model version (picocli then drops both of its options, --help included).
 */
final class BundleTarget {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = {"-o", "--out"}, paramLabel = "MODEL_DIR", required = true, description = "The bundle directory "
      + "to write (created).")
  Path out;

  @Option(names = "--name", paramLabel = "NAME", description = "Model name. Default: the bundle directory's name.")
  String name;

  @Option(names = "--version", paramLabel = "V", defaultValue = "1", description = "Model version. Default: 1.")
  String version;

  /** The model name: --name, else the bundle directory's name. */
  String modelName() {
    return name != null ? name : out.toAbsolutePath().getFileName().toString();
  }
}

package io.fieldline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fieldline.cli.internal.Settings;
import io.fieldline.core.data.IdxFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

class SettingsTest {
  @TempDir
  Path dir;

  private record Run(int status, String out, String err) {}

  private static Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Fieldline.execute(env, new PrintWriter(out), new PrintWriter(err), args);
    return new Run(status, out.toString(), err.toString());
  }

  private Path config(String... lines) throws Exception {
    Path file = dir.resolve("fieldline.properties");
    Files.write(file, List.of(lines));
    return file;
  }

  /** generate on a tiny data set (2x2 images, one Euler step): fast enough to run many times. */
  private Run generate(Map<String, String> env, String... flags) throws Exception {
    Path data = dir.resolve("tiny.idx");
    if (!Files.exists(data)) {
      IdxFixtures.write(data, 2, 2, 2, 1, false);
    }
    String[] args = Stream.concat(Stream.of("generate", "--model", "exact:" + data, "--solver", "euler", "--steps",
        "1", "--out", dir.resolve("out").toString(), "--no-progress"), Stream.of(flags)).toArray(String[]::new);
    return run(env, args);
  }

  private static void assertGenerated(int images, Run r) {
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().startsWith("generated " + images + " images"), r.out());
  }

  @Test
  void fileIsBeatenByEnvironmentWhichIsBeatenByFlags() throws Exception {
    Path file = config("seeds=0-2");
    assertGenerated(3, generate(Map.of(), "--config", file.toString()));
    assertGenerated(5, generate(Map.of("FIELDLINE_SEEDS", "0-4"), "--config", file.toString()));
    assertGenerated(2, generate(Map.of("FIELDLINE_SEEDS", "0-4"), "--config", file.toString(), "--seeds", "0-1"));
  }

  @Test
  void commandPrefixedKeysBeatPlainOnes() throws Exception {
    Path file = config("seeds=0-9", "generate.seeds=0-1");
    assertGenerated(2, generate(Map.of(), "--config", file.toString()));
    assertGenerated(4, generate(Map.of("FIELDLINE_SEEDS", "0-6", "FIELDLINE_GENERATE_SEEDS", "0-3")));
  }

  @Test
  void configFileCanBeNamedBeforeTheCommand() throws Exception {
    Path file = config("seeds=0-3");
    Path data = dir.resolve("tiny.idx");
    IdxFixtures.write(data, 2, 2, 2, 1, false);
    assertGenerated(4, run(Map.of(), "--config", file.toString(), "generate", "--model", "exact:" + data, "--solver",
        "euler", "--steps", "1", "--out", dir.resolve("out").toString(), "--no-progress"));
  }

  @Test
  void emptyEnvironmentVariablesCountAsUnset() throws Exception {
    Path file = config("seeds=0-2");
    assertGenerated(3, generate(Map.of("FIELDLINE_SEEDS", ""), "--config", file.toString()));
  }

  @Test
  void configFileCanBeNamedByFieldlineConfig() throws Exception {
    Path file = config("seeds=0-5");
    assertGenerated(6, generate(Map.of("FIELDLINE_CONFIG", file.toString())));
    Path other = dir.resolve("other.properties");
    Files.writeString(other, "seeds=0-1\n");
    assertGenerated(2, generate(Map.of("FIELDLINE_CONFIG", file.toString()), "--config=" + other));
  }

  @Test
  void missingConfigFileFailsNamingItAndWhoNamedIt() throws Exception {
    String absent = dir.resolve("absent.properties").toString();
    Run r = generate(Map.of(), "--config", absent);
    assertEquals(2, r.status());
    assertEquals("fieldline generate: config file " + absent + " (set by --config) does not exist",
        r.err().strip());
    r = generate(Map.of("FIELDLINE_CONFIG", absent));
    assertEquals(2, r.status());
    assertTrue(r.err().contains(absent + " (set by environment variable FIELDLINE_CONFIG) does not exist"), r.err());
  }

  @Test
  void unknownFileKeyFailsNamingTheKeyAndTheFile() throws Exception {
    Path file = config("bacth=32", "serve.grid=x.png", "batch=32");
    Run r = generate(Map.of(), "--config", file.toString());
    assertEquals(2, r.status());
    String line = r.err().strip();
    assertFalse(line.contains("\n"), "one line: " + line);
    assertTrue(line.startsWith("fieldline generate: unknown settings 'bacth' (no command has --bacth), "
        + "'serve.grid' (serve has no --grid) in " + file), line);
  }

  @Test
  void keysOfOtherCommandsAreAccepted() throws Exception {
    Path file = config("serve.max-queued=100", "bootstrap-servers=broker:9092", "kafka.security.protocol=SSL",
        "export.name=mine", "seeds=0-1");
    assertGenerated(2, generate(Map.of(), "--config", file.toString()));
  }

  @Test
  void outOfRangeValueNamesFlagBoundValueAndSource() throws Exception {
    Path file = config("batch=0");
    String bound = "invalid --batch: must be 1..65536 rows (samples per batched field evaluation), got 0";
    Run r = generate(Map.of(), "--config", file.toString());
    assertEquals(2, r.status());
    assertEquals("fieldline generate: " + bound + " (set in " + file + ")", r.err().strip());
    r = generate(Map.of("FIELDLINE_GENERATE_BATCH", "0"), "--config", file.toString());
    assertEquals("fieldline generate: " + bound + " (set by environment variable FIELDLINE_GENERATE_BATCH)",
        r.err().strip());
    r = generate(Map.of(), "--batch", "0");
    assertEquals("fieldline generate: " + bound + " (set on the command line)", r.err().strip());
  }

  @Test
  void serveAndSubmitBoundsAreCheckedBeforeConnecting() {
    Map<String, String> env = Map.of("FIELDLINE_BOOTSTRAP_SERVERS", "localhost:1", "FIELDLINE_REGISTRY",
        "http://localhost:1", "FIELDLINE_SERVE_MAX_QUEUED", "-5");
    Run r = run(env, "serve");
    assertEquals(2, r.status(), r.err());
    assertEquals("fieldline serve: invalid --max-queued: must be >= 1 images, got -5 (set by environment variable "
        + "FIELDLINE_SERVE_MAX_QUEUED)", r.err().strip());
    r = run(env, "serve", "--workers", "-1");
    assertTrue(r.err().startsWith("fieldline serve: invalid --workers: must be >= 0 engines"), r.err());
    r = run(env, "submit", "--model", "m", "--priority", "5000");
    assertEquals("fieldline submit: invalid --priority: must be -1000..1000 (larger runs first), got 5000 (set on "
        + "the command line)", r.err().strip());
    r = run(Map.of("FIELDLINE_SUBMIT_TIMEOUT", "PT0S"), "submit", "--bootstrap-servers", "b:1", "--registry", "r",
        "--model", "m");
    assertTrue(r.err().startsWith("fieldline submit: invalid --timeout: must be a positive duration"), r.err());
  }

  @Test
  void valueThatCannotBeConvertedNamesTheSource() throws Exception {
    Path file = config("batch=abc");
    Run r = generate(Map.of(), "--config", file.toString());
    assertEquals(2, r.status());
    assertEquals("fieldline generate: invalid --batch: must be 1..65536 rows (samples per batched field evaluation), "
        + "got 'abc' (set in " + file + ")", r.err().strip());
    r = generate(Map.of("FIELDLINE_NO_PROGRESS", "yes"));
    assertEquals("fieldline generate: invalid --no-progress: must be true or false, got 'yes' (set by environment "
        + "variable FIELDLINE_NO_PROGRESS)", r.err().strip());
  }

  @Test
  void flagOverridesABadValueInTheFile() throws Exception {
    Path file = config("batch=abc", "seeds=0");
    assertGenerated(1, generate(Map.of(), "--config", file.toString(), "--batch", "8"));
  }

  @Test
  void helpShowsTheDefaultsTheSettingsGive() {
    Run r = run(Map.of("FIELDLINE_GENERATE_BATCH", "7"), "generate", "--help");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("on it. Default: 7."), r.out());
  }

  @Test
  void secretsInAFileOthersCanReadAreWarnedAbout() throws Exception {
    Path file = config("kafka.sasl.jaas.config=org.example.Login required password=\"x\";", "seeds=0");
    assumeTrue(file.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions only");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    Run r = generate(Map.of(), "--config", file.toString());
    assertGenerated(1, r);
    assertTrue(r.err().contains("warning: " + file + " holds kafka.sasl.jaas.config and users other than its owner "
        + "can read it (chmod 600 " + file + ")"), r.err());
    assertFalse(r.err().contains("password=\"x\""), "the secret itself is never printed");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    r = generate(Map.of(), "--config", file.toString());
    assertGenerated(1, r);
    assertFalse(r.err().contains("warning"), r.err());
  }

  // Map flags, on a small command of their own (serve and submit would need a broker to show their maps).

  @Command(name = "test")
  static final class Root implements Runnable {
    @Override
    public void run() {}
  }

  @Command(name = "client")
  static final class Client implements Runnable {
    @Option(names = "--kafka", description = "Kafka settings.")
    Map<String, String> kafka = new LinkedHashMap<>();

    @Option(names = "--kafka-config", description = "A file.")
    Path kafkaConfig;

    @Option(names = "--alias", description = "Aliases.")
    Map<String, String> aliases = new LinkedHashMap<>();

    Map<String, String> seen;

    @Override
    public void run() {
      seen = new LinkedHashMap<>(kafka);
      aliases.forEach((k, v) -> seen.put("alias:" + k, v));
    }
  }

  private static Map<String, String> maps(Map<String, String> env, String... args) {
    Client client = new Client();
    CommandLine cli = new CommandLine(new Root()).addSubcommand(client);
    Settings.install(cli, args, env);
    assertEquals(0, cli.execute(args));
    assertNotNull(client.seen);
    return client.seen;
  }

  @Test
  void mapEntriesFromFileAndEnvironmentMergeWithFlagsWhichWinPerKey() throws Exception {
    Path file = config("kafka.security.protocol=SASL_SSL", "kafka.sasl.mechanism=PLAIN", "kafka.acks=1",
        "client.kafka.acks=all", "alias.fm=exact:fashion-mnist");
    Map<String, String> env = Map.of("FIELDLINE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
        "FIELDLINE_KAFKA_SASL_JAAS_CONFIG", "org.example.Login required;",
        "FIELDLINE_KAFKA_CONFIG", "/etc/kafka.properties", "FIELDLINE_ALIAS_MY_MODEL", "models/mine");
    Map<String, String> seen = maps(env, "client", "--config", file.toString(), "--kafka", "security.protocol=SSL");
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("security.protocol", "SSL"); // the flag wins
    expected.put("sasl.mechanism", "SCRAM-SHA-512"); // the environment beats the file
    expected.put("acks", "all"); // client.kafka.acks beats kafka.acks
    expected.put("sasl.jaas.config", "org.example.Login required;"); // FIELDLINE_KAFKA_SASL_JAAS_CONFIG
    expected.put("alias:fm", "exact:fashion-mnist");
    expected.put("alias:my-model", "models/mine"); // '_' becomes '-' in alias names
    assertEquals(expected, seen); // and FIELDLINE_KAFKA_CONFIG is --kafka-config, not a kafka key
  }

  @Test
  void requiredFlagsCanComeFromSettings() {
    Run r = run(Map.of("FIELDLINE_BOOTSTRAP_SERVERS", "localhost:1", "FIELDLINE_REGISTRY", "http://localhost:1"),
        "submit", "--model", "m", "--count", "0");
    assertEquals("fieldline submit: invalid --count: must be >= 1 images (the servers' --max-count bounds it too), "
        + "got 0 (set on the command line)", r.err().strip()); // not "missing --bootstrap-servers"
  }

  @Test
  void everySettableFlagHasOneFileKeyAndEnvironmentVariable() {
    CommandLine cli = new CommandLine(new Fieldline());
    Settings.install(cli, new String[0], Map.of());
    OptionSpec batch = cli.getSubcommands().get("serve").getCommandSpec().findOption("--batch");
    assertEquals("batch", Settings.key(batch));
    assertEquals("FIELDLINE_SERVE_BATCH", Settings.envName("serve", "batch"));
    assertEquals("FIELDLINE_MAX_QUEUED_PER_CLIENT", Settings.envName(null, "max-queued-per-client"));
    assertNotNull(cli.getSubcommands().get("serve").getCommandSpec().findOption("--config"));
  }
}

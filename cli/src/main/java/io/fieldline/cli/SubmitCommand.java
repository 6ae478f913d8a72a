package io.fieldline.cli;

import io.fieldline.cli.internal.ClusterOptions;
import io.fieldline.cli.internal.ProgressBar;
import io.fieldline.schemas.ClassRequest;
import io.fieldline.schemas.GenerationRequest;
import io.fieldline.schemas.GenerationStatus;
import io.fieldline.schemas.SamplerSpec;
import io.fieldline.streams.client.FieldlineClient;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fieldline submit}: send a request to a running pipeline and collect its images. */
@Command(name = "submit", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Sends one GenerationRequest, follows its status with a progress bar, and saves its images "
        + "(read_committed) to --out. Exit status 0 when the request ends DONE, 1 otherwise (the reason is printed).",
        "--out is laid out for training: images drawn from a class go into one folder per class name, and "
            + "labels.csv lists every image (file, class, class_name, seed, index, model, version, sampler) in index "
            + "order; `fieldline train --data DIR` reads such a folder as a labelled set."},
    footer = {"", "Examples:",
        "  fieldline submit --bootstrap-servers localhost:9092 --registry http://localhost:8081 --model fmnist-pfgmpp "
            + "--count 64 --out out/submitted",
        "  fieldline submit ... --model fmnist-pfgmpp-cond --class all --count 100 --guidance 2 --out out/balanced",
        "  fieldline submit ... --model fmnist-pfgmpp-cond --class-count sandal=100 --class-count sneaker=50 "
            + "--out out/shoes"})
final class SubmitCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  io.fieldline.cli.internal.SamplerOptions sampler;

  @Option(names = "--model", paramLabel = "NAME", required = true, description = "Model name as the servers know it.")
  String model;

  @Option(names = "--model-version", paramLabel = "V", description = "A model version; default: the newest.")
  String modelVersion;

  @Option(names = "--count", paramLabel = "N", description = "Images. Default: the sum of --class-count, else 16.")
  Integer count;

  @Option(names = "--class", paramLabel = "NAME|INDEX", split = ",", description = "Class-conditional models: "
      + "classes by name or index, cycled over the images; 'all' = every class, balanced.")
  List<String> classes;

  @Option(names = "--class-count", paramLabel = "NAME=N", description = "Images of one class (repeatable), laid out "
      + "in class-index order; instead of --class.")
  Map<String, Integer> classCounts = new LinkedHashMap<>();

  @Option(names = "--guidance", paramLabel = "W", description = "Classifier-free guidance weight in [0, 20] for "
      + "images with a class (1 = the plain conditional field; other than 0 and 1 costs two evaluations per step). "
      + "Default: the model's.")
  Double guidance;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Request seed. Default: "
      + "${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--rtol", paramLabel = "R", description = "RK45 tolerance (rtol = atol).")
  Double rtol;

  @Option(names = "--priority", paramLabel = "P", defaultValue = "0", description = "Larger runs first. Default: "
      + "${DEFAULT-VALUE}.")
  int priority;

  @Option(names = "--deadline", paramLabel = "DURATION", description = "Drop unfinished images after this long "
      + "(ISO-8601, e.g. PT5M).")
  Duration deadline;

  @Option(names = "--client-id", paramLabel = "ID", description = "Who asks: servers bound the unfinished images "
      + "per client id (--max-queued-per-client of serve). Default: none (requests without one share a quota).")
  String clientId;

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Labels copied onto every image (repeatable).")
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--request-id", paramLabel = "ID", description = "Default: a random UUID.")
  String requestId;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", defaultValue = "out/submit", description = "Where images go. "
      + "Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "PT30M", description = "Give up after this "
      + "long. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  @Option(names = "--no-progress", description = "Do not draw the progress bar.")
  boolean noProgress;

  @Mixin
  ClusterOptions cluster;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    String id = requestId != null ? requestId : UUID.randomUUID().toString();
    if (classes != null && !classCounts.isEmpty()) {
      throw new Fieldline.UsageException("give --class or --class-count, not both");
    }
    if (sampler.solver == null && (sampler.steps != null || rtol != null)) {
      throw new Fieldline.UsageException("--steps and --rtol need --solver");
    }
    SamplerSpec samplerSpec = sampler.solver == null && guidance == null ? null
        : SamplerSpec.newBuilder().setSolver(sampler.solver == null ? "" : sampler.solver).setSteps(sampler.steps)
            .setRtol(rtol).setAtol(rtol)
            .setGuidance(guidance).build();
    ClassRequest classRequest = classes != null
        ? ClassRequest.newBuilder().setNames(new java.util.ArrayList<>(classes)).build()
        : classCounts.isEmpty() ? null : ClassRequest.newBuilder().setCounts(new LinkedHashMap<>(classCounts)).build();
    int count = this.count != null ? this.count
        : classCounts.isEmpty() ? 16 : classCounts.values().stream().mapToInt(Integer::intValue).sum();
    GenerationRequest request = GenerationRequest.newBuilder().setRequestId(id).setModel(model)
        .setModelVersion(modelVersion).setCount(count).setSeed(seed).setSampler(samplerSpec).setPriority(priority)
        .setClasses(classRequest)
        .setClientId(clientId).setDeadlineEpochMs(deadline == null ? null : Instant.now().plus(deadline).toEpochMilli()).setLabels(labels)
        .build();
    Files.createDirectories(out);
    try (FieldlineClient fieldline = cluster.client().optRegistryWait(timeout, message -> {
          stdout.println(message);
          stdout.flush();
        }).build()) {
      stdout.printf("submitting request %s: %d images of %s%n", id, count, model);
      stdout.flush();
      ProgressBar bar = new ProgressBar(System.err, "images", count, !noProgress, System::nanoTime);
      int[] saved = {0};
      java.util.TreeMap<Integer, String> rows = new java.util.TreeMap<>();
      FieldlineClient.Outcome outcome = fieldline.submitAndFollow(request, timeout, () -> true, (image, png) -> {
        String file = String.format(Locale.ROOT, "%s-%04d.png", id, image.getIndex());
        String className = image.getClassName();
        if (className != null) {
          file = safeFolder(className) + "/" + file;
          Files.createDirectories(out.resolve(safeFolder(className)));
        }
        Files.write(out.resolve(file), png);
        rows.put(image.getIndex(), String.join(",", csv(file), Integer.toString(image.getClassIndex()),
            csv(className == null ? "" : className), Long.toString(image.getSeed()),
            Integer.toString(image.getIndex()), csv(image.getModel()), csv(image.getModelVersion()),
            csv(image.getSampler())));
        bar.update(++saved[0]);
      });
      Files.writeString(out.resolve("labels.csv"), "file,class,class_name,seed,index,model,version,sampler\n"
          + rows.values().stream().map(r -> r + "\n").collect(java.util.stream.Collectors.joining()));
      GenerationStatus last = outcome.last();
      stdout.printf("%s: %d images saved to %s%s%n", last == null ? "NO STATUS (timed out)" : last.getState(),
          outcome.images(),
          out, last != null && last.getReason() != null ? "; reason: " + last.getReason() : "");
      stdout.flush();
      return outcome.done() ? 0 : 1;
    }
  }

  /** A class name as a folder name: path separators and leading dots replaced. */
  static String safeFolder(String className) {
    String s = className.replaceAll("[/\\\\:\\x00]", "_");
    return s.startsWith(".") ? "_" + s.substring(1) : s;
  }

  /** A CSV field, quoted when it holds a comma or a quote (the sampler does). */
  static String csv(String value) {
    return value.contains(",") || value.contains("\"") ? "\"" + value.replace("\"", "\"\"") + "\"" : value;
  }
}

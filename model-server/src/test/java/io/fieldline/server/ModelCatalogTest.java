package io.fieldline.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fieldline.core.FieldModel;
import io.fieldline.core.ImageShape;
import io.fieldline.core.Physics;
import io.fieldline.core.data.IdxFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Versions side by side: promotion only after warm-up, never for a broken version, retry after its files change;
 * hidden directories and names that would leave the models directory. Warm-ups run on a hand-stepped executor, and
 * each version directory holds a {@code behaviour} file the test loader obeys (ok, nan or fail).
 */
class ModelCatalogTest {
  @TempDir
  Path dir;

  private final List<Runnable> warmUps = new ArrayList<>();
  private final Executor manual = warmUps::add;
  private final List<String> reports = new ArrayList<>();
  private final AtomicInteger loads = new AtomicInteger();
  private Path models;
  private FieldModel exact;

  @BeforeEach
  void setUp() throws Exception {
    models = Files.createDirectories(dir.resolve("models"));
    Path data = IdxFixtures.write(dir.resolve("tiny.idx"), 4, 3, 3, 1, false);
    exact = ModelLoader.builder().optExactSize(4).build().load("exact:" + data);
  }

  private ModelCatalog catalog() {
    return ModelCatalog.builder().optModelsDir(models).optWarmUpExecutor(manual).optListener(reports::add)
        .optLoader(spec -> {
          loads.incrementAndGet();
          String behaviour = read(Path.of(spec).resolve("behaviour"));
          if (behaviour.equals("fail")) {
            throw new ModelException("field.onnx is truncated");
          }
          return behaviour.equals("nan") ? new ConstantModel(exact, Double.NaN) : new ConstantModel(exact, 0.5);
        }).build();
  }

  private void version(String name, String version, String behaviour) throws Exception {
    Path v = Files.createDirectories(models.resolve(name).resolve(version));
    Files.writeString(v.resolve(ModelBundle.METADATA), "{}");
    Files.writeString(v.resolve("behaviour"), behaviour);
  }

  private void runWarmUps() {
    List<Runnable> now = List.copyOf(warmUps);
    warmUps.clear();
    now.forEach(Runnable::run);
  }

  private String newest(ModelCatalog catalog) {
    return catalog.resolve("m", null).orElseThrow().version();
  }

  /** A cold start: resolve schedules the newest version's load, which the warm-up thread then runs. */
  private void coldStart(ModelCatalog catalog) {
    newest(catalog);
    runWarmUps();
  }

  @Test
  void shouldMoveRequestsToANewVersionOnlyAfterItLoadedAndWarmedUp() throws Exception {
    version("m", "1", "ok");
    try (ModelCatalog catalog = catalog()) {
      assertEquals("1", newest(catalog), "a cold start answers at once with the newest version");
      assertEquals(0, loads.get(), "and loads nothing in the caller");
      assertFalse(catalog.isReady(catalog.resolve("m", "1").orElseThrow()));
      runWarmUps();
      assertEquals(1, loads.get(), "the warm-up thread loads it");
      version("m", "2", "ok");
      assertEquals("1", newest(catalog), "version 2 is not warm yet");
      assertEquals(1, warmUps.size(), "its warm-up is scheduled");
      assertEquals("1", newest(catalog));
      assertEquals(1, warmUps.size(), "scheduled once");
      runWarmUps();
      assertEquals("2", newest(catalog));
      assertEquals("1", catalog.resolve("m", "1").orElseThrow().version(), "older versions stay addressable");
      assertTrue(catalog.isReady(catalog.resolve("m", "1").orElseThrow()), "and loaded, for in-flight work");
      assertTrue(reports.get(reports.size() - 1).startsWith("m version 2 loaded and warmed up"), reports.toString());
    }
  }

  @Test
  void shouldNeverPromoteAVersionWhoseWarmUpIsNotFiniteAndReportItOnce() throws Exception {
    version("m", "1", "ok");
    try (ModelCatalog catalog = catalog()) {
      coldStart(catalog);
      version("m", "2", "nan");
      newest(catalog);
      runWarmUps();
      assertEquals("1", newest(catalog));
      assertEquals("1", newest(catalog));
      assertTrue(warmUps.isEmpty(), "not retried while its files are unchanged");
      List<String> failures = reports.stream().filter(r -> r.contains("failed")).toList();
      assertEquals(1, failures.size(), reports.toString());
      assertTrue(failures.get(0).contains("m version 2") && failures.get(0).contains("not finite"), failures.get(0));
      ModelException e = assertThrows(ModelException.class,
          () -> catalog.load(catalog.resolve("m", "2").orElseThrow()), "asking for it by version fails clearly");
      assertTrue(e.getMessage().contains("not finite"), e.getMessage());
    }
  }

  @Test
  void shouldRetryAFailedVersionWhenItsFilesChange() throws Exception {
    version("m", "1", "ok");
    try (ModelCatalog catalog = catalog()) {
      coldStart(catalog);
      version("m", "2", "fail"); // half copied
      newest(catalog);
      runWarmUps();
      assertEquals("1", newest(catalog));
      Path behaviour = models.resolve("m/2/behaviour");
      Files.writeString(behaviour, "ok"); // the copy completes
      Files.setLastModifiedTime(behaviour, FileTime.from(Instant.now().plusSeconds(5)));
      assertEquals("1", newest(catalog));
      runWarmUps();
      assertEquals("2", newest(catalog));
    }
  }

  @Test
  void shouldColdStartOnTheNewestVersionThatLoadsAndIgnoreHiddenDirectories() throws Exception {
    version("m", "1", "ok");
    version("m", "2", "fail");
    version("m", ".3", "ok"); // being copied, to be renamed into place
    try (ModelCatalog catalog = catalog()) {
      assertEquals("2", newest(catalog), "the newest version not known to fail");
      runWarmUps();
      assertEquals("1", newest(catalog), "2 failed to load: the next resolve moves on");
      assertEquals(1, warmUps.size(), "and schedules 1");
      runWarmUps();
      assertEquals("1", newest(catalog));
      assertEquals(2, loads.get(), "every load ran on the warm-up thread");
      assertThrows(ModelException.class, () -> catalog.resolve("m", ".3"), "a hidden name is not a version");
      Files.move(models.resolve("m/.3"), models.resolve("m/3"));
      assertEquals("1", newest(catalog), "3 warms in the background first");
      runWarmUps();
      assertEquals("3", newest(catalog));
    }
  }

  @Test
  void shouldCallItsListenerOutsideItsLocksAndSurviveOneThatThrows() throws Exception {
    version("m", "1", "ok");
    List<String> seen = new ArrayList<>();
    ModelCatalog[] self = new ModelCatalog[1];
    try (ModelCatalog catalog = ModelCatalog.builder().optModelsDir(models).optWarmUpExecutor(manual)
        .optListener(message -> {
          // From another thread, as a UI or metrics exporter would: blocks forever if the catalog's lock is held.
          java.util.concurrent.CompletableFuture<Object> other = java.util.concurrent.CompletableFuture.supplyAsync(
              () -> self[0].load(self[0].resolve("m", "1").orElseThrow()));
          seen.add(message + " / other thread loaded: " + (other.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS)
              .join() != null));
          throw new IllegalStateException("a listener bug");
        })
        .optLoader(spec -> new ConstantModel(exact, 0.5)).build()) {
      self[0] = catalog;
      FieldModel model = catalog.load(catalog.resolve("m", null).orElseThrow());
      assertTrue(model != null, "a listener that throws does not fail the load");
      assertEquals(1, seen.size(), seen.toString());
      assertTrue(seen.get(0).endsWith("other thread loaded: true"), seen.toString());
    }
  }

  /** Version m/1 with a real model.json (PFGM++ 1x3x3, the given classes or none) for describe to read; its physics. */
  private Physics describedVersion(List<String> classes) throws Exception {
    version("m", "1", "ok");
    Path v1 = models.resolve("m/1");
    Physics physics = io.fieldline.core.PfgmppPhysics.edmDefaults(9, 128);
    new ModelBundle(ModelBundle.FORMAT, "m", "1", "pfgmpp", new ImageShape(1, 3, 3), ModelBundle.physicsToJson(physics),
        null, null, "0", null, classes).write(v1);
    Files.writeString(v1.resolve(ModelBundle.WEIGHTS), "not read by describe");
    return physics;
  }

  @Test
  void shouldDescribeAVersionFromItsModelJsonWithoutLoadingItInTheCaller() throws Exception {
    Physics physics = describedVersion(List.of("cat", "dog"));
    try (ModelCatalog catalog = catalog()) {
      ModelCatalog.Entry entry = catalog.resolve("m", null).orElseThrow();
      ModelCatalog.Description d = catalog.describe(entry);
      assertEquals(0, loads.get(), "nothing loaded in the caller");
      assertEquals(physics, d.physics());
      assertEquals(List.of("cat", "dog"), d.classes());
      assertEquals(new ImageShape(1, 3, 3), d.shape());
      assertEquals(io.fieldline.core.SamplerSettings.defaultFor(physics), d.defaultSampler());
      assertEquals(1, warmUps.size(), "its load is scheduled once");
      runWarmUps();
      assertTrue(catalog.isReady(entry));
      assertEquals(exact.physics(), catalog.describe(entry).physics(), "once loaded, the model describes itself");
    }
  }

  @Test
  void shouldAnswerResolveAndDescribeWhileAVersionIsLoadingOnAnotherThread() throws Exception {
    Physics physics = describedVersion(null);
    java.util.concurrent.CountDownLatch loading = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.ExecutorService thread = java.util.concurrent.Executors.newSingleThreadExecutor();
    try (ModelCatalog catalog = ModelCatalog.builder().optModelsDir(models).optWarmUpExecutor(thread)
        .optLoader(spec -> {
          loading.countDown();
          try {
            release.await(); // a slow load, holding the version's lock
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return new ConstantModel(exact, 0.5);
        }).build()) {
      ModelCatalog.Entry entry = catalog.resolve("m", null).orElseThrow();
      assertTrue(loading.await(10, java.util.concurrent.TimeUnit.SECONDS), "the warm-up thread is loading");
      // A stream thread checking requests meanwhile gets its answers at once, from model.json.
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(5), () -> {
        assertEquals(entry, catalog.resolve("m", null).orElseThrow());
        assertEquals(physics, catalog.describe(entry).physics());
        assertFalse(catalog.isReady(entry));
      });
      release.countDown();
    } finally {
      release.countDown();
      thread.shutdown();
    }
  }

  @Test
  void shouldRefuseToDescribeAFailedVersionWithItsReasonAndAnAliasStillLoading() throws Exception {
    version("m", "1", "fail");
    try (ModelCatalog catalog = ModelCatalog.builder().optModelsDir(models).optWarmUpExecutor(manual)
        .optAlias("alias", "exact:" + dir.resolve("tiny.idx")).optLoader(spec -> {
          if (spec.startsWith("exact:")) {
            return exact;
          }
          throw new ModelException("field.onnx is truncated");
        }).build()) {
      ModelCatalog.Entry alias = catalog.resolve("alias", null).orElseThrow();
      ModelException loading = assertThrows(ModelException.class, () -> catalog.describe(alias));
      assertTrue(loading.getMessage().contains("still loading"), loading.getMessage());
      catalog.loadAliases();
      assertEquals(exact.physics(), catalog.describe(alias).physics());
      ModelCatalog.Entry m = catalog.resolve("m", null).orElseThrow();
      runWarmUps();
      ModelException failed = assertThrows(ModelException.class, () -> catalog.describe(m));
      assertTrue(failed.getMessage().contains("truncated"), failed.getMessage());
    }
  }

  @Test
  void shouldListItsAliasesAndModelFoldersButNotHiddenOnes() throws Exception {
    version("m", "1", "ok");
    version("other", "2", "ok");
    Files.createDirectories(models.resolve(".copying"));
    try (ModelCatalog catalog = ModelCatalog.builder().optModelsDir(models).optAlias("alias", "exact:x").build()) {
      assertEquals(List.of("alias", "m", "other"), catalog.names());
    }
  }

  @Test
  void shouldFailClearlyWhenNoVersionLoads() throws Exception {
    version("m", "1", "fail");
    try (ModelCatalog catalog = catalog()) {
      coldStart(catalog);
      ModelException e = assertThrows(ModelException.class, () -> catalog.resolve("m", null));
      assertTrue(e.getMessage().contains("no version of model 'm' can be loaded")
          && e.getMessage().contains("truncated"), e.getMessage());
      assertTrue(catalog.resolve("absent", null).isEmpty());
      assertTrue(catalog.resolve("m", "9").isEmpty());
    }
  }

  @Test
  void shouldRefuseNamesThatWouldLeaveTheModelsDirectory() throws Exception {
    version("m", "1", "ok");
    Files.createDirectories(dir.resolve("outside/1"));
    Files.writeString(dir.resolve("outside/1/model.json"), "{}");
    try (ModelCatalog catalog = catalog()) {
      for (String name : List.of("../outside", "..", "m/../../outside", "/etc", "m/1", ".hidden", "")) {
        assertThrows(ModelException.class, () -> catalog.resolve(name, null), name);
      }
      assertThrows(ModelException.class, () -> catalog.resolve("m", "../../outside/1"));
      assertEquals(0, loads.get(), "nothing was loaded");
      assertFalse(ModelCatalog.isValidName("a..b"));
    }
  }

  /** A model whose output is one constant (NaN for a broken network). */
  private record ConstantModel(FieldModel shapeOf, double value) implements FieldModel {
    @Override
    public String name() {
      return "constant";
    }

    @Override
    public Physics physics() {
      return shapeOf.physics();
    }

    @Override
    public ImageShape shape() {
      return shapeOf.shape();
    }

    @Override
    public void evaluate(double[][] x, double[] cond, double[][] out, int count) {
      for (int i = 0; i < count; i++) {
        java.util.Arrays.fill(out[i], value);
      }
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p).trim();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

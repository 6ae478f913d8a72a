package io.fieldline.trainer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.fieldline.core.ImageShape;
import io.fieldline.core.PfgmPhysics;
import io.fieldline.core.PfgmppPhysics;
import io.fieldline.core.Physics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a run directory is: {@code run.json}, written when the run starts and checked when it resumes.
 *
 * @param settings the training settings
 * @param shape the image shape
 * @param physics the model physics, as in a bundle's model.json
 * @param data where the training images came from
 * @param images how many training images
 * @param kernelDepth PFGM's perturbation depth M (0 for PFGM++)
 * @param parameters trainable values of the network
 * @param initFrom where the run was warm-started from ({@code RUN_DIR at step N}), or null for a fresh start
 */
public record RunInfo(TrainSettings settings, ImageShape shape, JsonObject physics, String data, int images,
    int kernelDepth, long parameters, String initFrom) {
  /** The file name inside a run directory. */
  public static final String FILE = "run.json";
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
      .disableHtmlEscaping().create();

  /** This description with another parameter count. */
  public RunInfo withParameters(long newParameters) {
    return new RunInfo(settings, shape, physics, data, images, kernelDepth, newParameters, initFrom);
  }

  /** The physics object. */
  public Physics toPhysics() {
    int n = shape.size();
    if (settings.kind().equals("pfgm")) {
      return new PfgmPhysics(n, get("zMax"), get("zMin"), get("upperNorm"), get("gamma"), get("zExp"));
    }
    return new PfgmppPhysics(n, get("D"), get("sigmaMax"), get("sigmaMin"), get("rho"), get("sigmaData"));
  }

  private double get(String key) {
    return physics.get(key).getAsDouble();
  }

  public void write(Path dir) throws IOException {
    Files.writeString(dir.resolve(FILE), GSON.toJson(this) + "\n", StandardCharsets.UTF_8);
  }

  /** Reads run.json; a clear {@link IllegalArgumentException} if it is missing or unreadable. */
  public static RunInfo read(Path dir) {
    Path file = dir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(dir + " is not a training run directory (" + FILE + " is missing)");
    }
    try {
      return GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), RunInfo.class);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}

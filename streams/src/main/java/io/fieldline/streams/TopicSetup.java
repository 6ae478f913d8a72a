package io.fieldline.streams;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The pipeline's topics as a cluster must have them: {@code samples} with {@code samplesPartitions} partitions (one
 * request's images spread over that many instances), the others with {@code partitions}; {@code status} compacted
 * (it holds the latest state per request); replication as given, or the broker's default.
 *
 * @param partitions partitions of requests, control, progress, images, status and the dead letters (>= 1)
 * @param samplesPartitions partitions of samples (>= 1): at most this many instances share one request's images
 * @param replication replication factor, or empty for the broker's default.replication.factor
 */
public record TopicSetup(int partitions, int samplesPartitions, Optional<Short> replication) {
  public TopicSetup {
    if (partitions < 1 || samplesPartitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions + " and " + samplesPartitions);
    }
    if (replication.isPresent() && replication.get() < 1) {
      throw new IllegalArgumentException("replication factor must be >= 1, got " + replication.get());
    }
  }

  /**
   * The broker's refusal itself (wrong credentials, missing ACLs: the caller reports those as the user's settings),
   * or an {@link IllegalStateException} with {@code what} and the cause's message.
   */
  private static RuntimeException refusalOr(ExecutionException e, String what) {
    if (e.getCause() instanceof org.apache.kafka.common.errors.AuthenticationException
        || e.getCause() instanceof org.apache.kafka.common.errors.AuthorizationException) {
      return (RuntimeException) e.getCause();
    }
    return new IllegalStateException(what + e.getCause().getMessage(), e);
  }

  /** 2 partitions, 4 for samples, the broker's replication factor. */
  public static TopicSetup defaults() {
    return new TopicSetup(2, 4, Optional.empty());
  }

  /** The topics to create, with their partitions and configs. */
  public List<NewTopic> newTopics(Topics topics) {
    List<NewTopic> out = new ArrayList<>();
    for (String name : List.of(topics.requests(), topics.control(), topics.progress(), topics.images(),
        topics.status(), topics.deadLetters())) {
      NewTopic t = new NewTopic(name, Optional.of(partitions), replication);
      out.add(name.equals(topics.status())
          ? t.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)) : t);
    }
    out.add(new NewTopic(topics.samples(), Optional.of(samplesPartitions), replication));
    return out;
  }

  /**
   * Makes sure the topics exist: creates the missing ones when {@code create}, else only checks.
   *
   * @return the topics created (empty if all existed)
   * @throws IllegalStateException naming the missing topics when {@code create} is false, or what went wrong
   * @throws org.apache.kafka.common.errors.AuthenticationException for wrong credentials
   * @throws org.apache.kafka.common.errors.AuthorizationException when ACLs forbid listing or creating topics (create
   *     them as documented, and pass --no-create-topics)
   */
  public List<String> ensure(Admin admin, Topics topics, boolean create) throws InterruptedException {
    Set<String> existing;
    try {
      existing = admin.listTopics().names().get();
    } catch (ExecutionException e) {
      throw refusalOr(e, "cannot list the cluster's topics: ");
    }
    List<NewTopic> missing = newTopics(topics).stream().filter(t -> !existing.contains(t.name())).toList();
    if (missing.isEmpty()) {
      return List.of();
    }
    List<String> names = missing.stream().map(NewTopic::name).toList();
    if (!create) {
      throw new IllegalStateException("missing topics " + names + " (create them as the README's topic table says, "
          + "or let serve create them by dropping --no-create-topics)");
    }
    List<String> created = new ArrayList<>();
    for (var e : admin.createTopics(missing).values().entrySet()) {
      try {
        e.getValue().get();
        created.add(e.getKey());
      } catch (ExecutionException ex) {
        if (!(ex.getCause() instanceof TopicExistsException)) { // another instance was quicker: fine
          throw refusalOr(ex, "cannot create topic " + e.getKey() + ": ");
        }
      }
    }
    return created;
  }
}

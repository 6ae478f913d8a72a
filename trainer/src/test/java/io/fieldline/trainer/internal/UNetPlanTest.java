package io.fieldline.trainer.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fieldline.core.ImageShape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The U-Net's one description is consistent: every skip kept is consumed, with the channels and sizes declared. */
class UNetPlanTest {
  @Test
  void shouldConsumeEverySkipItKeepsWithTheChannelsAndResolutionItDeclares() {
    ImageShape fmnist = new ImageShape(1, 28, 28);
    for (NetConfig c : List.of(NetConfig.small(fmnist, false), NetConfig.small(fmnist, true).with(16,
        new int[] {1, 2, 4}, 2, true), NetConfig.small(new ImageShape(3, 32, 32), false).with(8,
        new int[] {1, 2, 2, 2}, 3, false))) {
      UNetPlan plan = new UNetPlan(c);
      record Feature(int channels, int height) {}
      int[] applied = {0};
      Feature out = plan.walk(new Feature(plan.inChannels(), c.shape().height()), new UNetPlan.Steps<>() {
        @Override
        public Feature apply(UNetPlan.Stage st, Feature in) {
          assertEquals(st.in(), in.channels(), st.name() + " gets the channels it declares");
          assertEquals(st.height(), in.height(), st.name() + " works at the resolution it declares");
          applied[0]++;
          return new Feature(st.out(), st.outHeight());
        }

        @Override
        public Feature concat(Feature in, Feature skip) {
          assertEquals(in.height(), skip.height(), "a skip joins at its own resolution");
          return new Feature(in.channels() + skip.channels(), in.height());
        }
      });
      assertEquals(plan.stages().size(), applied[0]);
      assertEquals(new Feature(plan.outChannels(), c.shape().height()), out, "back at the image's resolution");
      long kept = plan.stages().stream().filter(UNetPlan.Stage::keepsSkip).count();
      long consumed = plan.stages().stream().filter(s -> s.kind() == UNetPlan.Kind.UP_BLOCK).count();
      assertEquals(kept + 1, consumed, "conv_in's output and every kept skip are concatenated once");
    }
  }
}

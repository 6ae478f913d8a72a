package io.fieldline.cli;

import java.util.List;

/**
 * The commands of the full distribution beyond the serving runtime: the demo (with its local broker and registry),
 * and training, export, quantization, evaluation and the feature classifier (with the trainer's PyTorch engine).
 */
public final class ToolCommands implements CommandProvider {
  @Override
  public List<Object> commands() {
    return List.of(new DemoCommand(), new TrainCommand(), new ExportCommand(), new QuantizeCommand(),
        new EvalCommand(), new ClassifierCommand());
  }
}

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/generation_flags.h"
#include "runtime/conversation.h"

namespace lightseek::cli {

namespace {
struct RunOptions {
  GenerationFlags generation;
  std::string prompt;
};
}  // namespace

void register_run(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "Answer one prompt, streaming the reply");
  command->add_option("-p,--prompt", options->prompt, "the user message")->required();
  add_generation_flags(command, options->generation);
  command->callback([options] {
    const auto model = load_model_for_text(options->generation);
    const GenerationSettings settings = generation_settings(options->generation, *model);
    Session session(*model->transformer);
    Conversation conversation(session, *model->tokenizer);
    conversation.options() = encode_options(options->generation);
    conversation.set_system(options->generation.system);
    DeltaPrinter printer;
    const TurnResult turn =
        conversation.ask(options->prompt, settings, [&](const ParsedDelta& delta) { printer.print(delta); });
    printer.end();
    std::fprintf(stderr, "%s\n", summary_line(turn.prompt_tokens, turn.prefill, turn.generation).c_str());
  });
}

}  // namespace lightseek::cli

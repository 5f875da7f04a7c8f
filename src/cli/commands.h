// Each subcommand registers itself on the CLI11 app and runs through a callback. Subcommands
// are thin: they parse flags, call the library, and print.
#pragma once

namespace CLI {
class App;
}

namespace lightseek::cli {

void register_inspect(CLI::App& app);
void register_gen_model(CLI::App& app);
void register_verify(CLI::App& app);
void register_logits(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_detokenize(CLI::App& app);
void register_render(CLI::App& app);
void register_run(CLI::App& app);
void register_chat(CLI::App& app);
void register_bench(CLI::App& app);
void register_serve(CLI::App& app);

}  // namespace lightseek::cli

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"lightseek: DeepSeek-V4 inference on hardware you own"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lightseek 0.1.0");
  lightseek::cli::register_inspect(app);
  lightseek::cli::register_gen_model(app);
  lightseek::cli::register_verify(app);
  lightseek::cli::register_logits(app);
  lightseek::cli::register_tokenize(app);
  lightseek::cli::register_detokenize(app);
  lightseek::cli::register_render(app);
  lightseek::cli::register_run(app);
  lightseek::cli::register_chat(app);
  lightseek::cli::register_bench(app);
  lightseek::cli::register_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const lightseek::Error& error) {
    std::fprintf(stderr, "lightseek: error: %s\n", error.what());
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "lightseek: internal error: %s\n", error.what());
    return 2;
  }
  return 0;
}

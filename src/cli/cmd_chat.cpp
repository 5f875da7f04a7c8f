#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/generation_flags.h"
#include "core/error.h"
#include "runtime/conversation.h"

namespace lightseek::cli {

namespace {

std::atomic<bool> interrupted{false};

void on_interrupt(int) { interrupted.store(true); }

// Ctrl-C sets a flag instead of ending the process; without SA_RESTART it also interrupts a
// pending read of the next line.
void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
}

constexpr const char* kHelp =
    "commands: /think (toggle thinking), /effort default|high|max, /system TEXT, /clear,\n"
    "          /save FILE, /load FILE, /help, /quit (or Ctrl-D). Ctrl-C stops a reply.";

std::string mode_text(Conversation& conversation) {
  const EncodeOptions& options = conversation.options();
  std::string text = options.thinking == ThinkingMode::Thinking ? "thinking" : "chat";
  if (options.thinking == ThinkingMode::Thinking && options.effort != ReasoningEffort::Default) {
    text += ", effort " + std::string(effort_name(options.effort));
  }
  return text;
}

// Handles a /command; returns false when the chat should end.
bool handle_command(const std::string& line, Conversation& conversation) {
  const size_t space = line.find(' ');
  const std::string name = line.substr(0, space);
  const std::string argument = space == std::string::npos ? "" : line.substr(space + 1);
  EncodeOptions& options = conversation.options();
  if (name == "/quit" || name == "/exit") return false;
  if (name == "/help") {
    std::puts(kHelp);
  } else if (name == "/think") {
    options.thinking = options.thinking == ThinkingMode::Thinking ? ThinkingMode::Chat : ThinkingMode::Thinking;
    std::printf("mode: %s\n", mode_text(conversation).c_str());
  } else if (name == "/effort") {
    options.effort = parse_effort(argument);
    std::printf("mode: %s\n", mode_text(conversation).c_str());
  } else if (name == "/system") {
    conversation.set_system(argument);
    std::puts(argument.empty() ? "system prompt removed" : "system prompt set");
  } else if (name == "/clear") {
    conversation.clear();
    std::puts("conversation cleared");
  } else if (name == "/save") {
    if (argument.empty()) fail("/save needs a file name");
    conversation.save(argument);
    std::printf("saved %zu messages to %s\n", conversation.messages().size(), argument.c_str());
  } else if (name == "/load") {
    if (argument.empty()) fail("/load needs a file name");
    conversation.load(argument);
    std::printf("loaded %zu messages from %s (mode: %s)\n", conversation.messages().size(), argument.c_str(),
                mode_text(conversation).c_str());
  } else {
    std::printf("unknown command %s\n%s\n", name.c_str(), kHelp);
  }
  return true;
}

}  // namespace

void register_chat(CLI::App& app) {
  auto flags = std::make_shared<GenerationFlags>();
  CLI::App* command = app.add_subcommand("chat", "Interactive multi-turn chat in the terminal");
  add_generation_flags(command, *flags);
  command->callback([flags] {
    const auto model = load_model_for_text(*flags);
    const GenerationSettings settings = generation_settings(*flags, *model);
    Session session(*model->transformer);
    Conversation conversation(session, *model->tokenizer);
    conversation.options() = encode_options(*flags);
    conversation.set_system(flags->system);
    install_interrupt_handler();
    std::printf("lightseek chat, %s mode. %s\n", mode_text(conversation).c_str(), kHelp);
    while (true) {
      std::printf("> ");
      std::fflush(stdout);
      std::string line;
      interrupted.store(false);
      if (!std::getline(std::cin, line)) {
        if (interrupted.load()) {  // Ctrl-C at the prompt interrupts the read; Ctrl-D is a plain EOF
          std::cin.clear();
          std::puts("\n(/quit or Ctrl-D leaves the chat)");
          continue;
        }
        std::puts("");
        break;
      }
      if (line.empty()) continue;
      try {
        if (line[0] == '/') {
          if (!handle_command(line, conversation)) break;
          continue;
        }
        DeltaPrinter printer;
        const TurnResult turn = conversation.ask(
            line, settings, [&](const ParsedDelta& delta) { printer.print(delta); }, &interrupted);
        printer.end();
        std::printf("[%s]\n", summary_line(turn.prompt_tokens, turn.prefill, turn.generation).c_str());
      } catch (const Error& error) {
        std::printf("error: %s\n", error.what());
      }
    }
  });
}

}  // namespace lightseek::cli

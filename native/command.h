#pragma once
// One file per verb (cmd_*.cpp), each registering itself here; main.cpp only dispatches.
// Exit codes across verbs: 0 success, 1 a verdict that failed (e.g. the SQNR gate), 2 an error.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace squint {

struct Command {
  std::string name;
  int order;  // position in --help
  // Adds the subcommand and its options; returns the function that runs it (an exit code).
  std::function<std::function<int()>(CLI::App&)> setup;
  bool legacy_json_file = false;  // `--json FILE` was this verb's old form (see output.h)
};

std::vector<Command>& command_registry();

struct RegisterCommand {
  RegisterCommand(std::string name, int order, std::function<std::function<int()>(CLI::App&)> setup,
                  bool legacy_json_file = false) {
    command_registry().push_back({std::move(name), order, std::move(setup), legacy_json_file});
  }
};

// Global flags every verb sees.
struct GlobalOptions {
  bool quiet = false;
  int threads = 0;  // 0 = all cores
  std::string verb;  // the verb being run (for messages that say what it takes)
};
GlobalOptions& global_options();

}  // namespace squint

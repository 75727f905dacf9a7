// squint: budget-aware mixed-precision quantization of LLM weights.
#include <algorithm>
#include <cstdio>

#include "command.h"
#include "util/error.h"

int main(int argc, char** argv) {
  using namespace squint;
  CLI::App app{"squint: data-free, budget-aware mixed-precision quantization of LLM weights (MINT)"};
  app.set_version_flag("--version", std::string("squint 0.1"));
  app.require_subcommand(1);
  app.fallthrough();
  auto& g = global_options();
  app.add_flag("-q,--quiet", g.quiet, "no progress bar or summaries on stderr");
  app.add_option("-j,--threads", g.threads, "worker threads (default: all cores)")->check(CLI::NonNegativeNumber);

  auto cmds = command_registry();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name);
    runners.emplace_back(sub, c.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const Error& e) {
    std::fprintf(stderr, "squint: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "squint: error: out of memory\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "squint: error: %s\n", e.what());
    return 2;
  }
  return 2;
}

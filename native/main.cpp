// squint: budget-aware mixed-precision quantization of LLM weights.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "applies.h"
#include "build_id.h"
#include "cli_errors.h"
#include "command.h"
#include "output.h"
#include "quant/simd.h"
#include "util/error.h"

namespace {

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#else
  return "unknown compiler";
#endif
}

std::string build_line() {
  // The version and the commit it was built from (what analysis parts and journals record).
  std::string s = "squint " + squint::squint_build_id() + "\nbuild: " + compiler() + ", kernel " + squint::simd::kLevel;
#if defined(__OPTIMIZE__)
  s += ", optimized";
#else
  s += ", unoptimized";
#endif
#if defined(__SANITIZE_ADDRESS__)
  s += ", ASan";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  s += ", ASan";
#endif
#endif
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace squint;
  CLI::App app{"squint: data-free, budget-aware mixed-precision quantization of LLM weights (MINT)"};
  always(app.add_flag_callback(
      "--version",
      [] {
        fmt::print("{}\n", build_line());
        throw CLI::Success();
      },
      "print the version and the build (compiler, SIMD kernel) and exit"));
  app.fallthrough();
  auto& g = global_options();
  always(app.add_flag("-q,--quiet", g.quiet,
                      "nothing for people: no progress bar, summaries or tables (JSON, files, exit codes unchanged)"));
  always(
      app.add_option("-j,--threads", g.threads, "worker threads (default: all cores)")->check(CLI::NonNegativeNumber));

  auto cmds = command_registry();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  std::vector<std::string> legacy_json;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name);
    runners.emplace_back(sub, c.setup(*sub));
    sub->allow_extras();  // unknown arguments get squint's message (unknown_argument), not CLI11's
    if (c.legacy_json_file) legacy_json.push_back(c.name);
  }
  app.allow_extras();
  std::vector<std::string> args(argv, argv + argc);
  args = rewrite_legacy_json(args, legacy_json);
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());
  CLI::App* verb = nullptr;
  auto selected = [&]() -> CLI::App* {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return sub;
    return nullptr;
  };
  try {
    app.parse(static_cast<int>(av.size()), av.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    verb = selected();
    std::fprintf(stderr, "squint: error: %s%s (squint %s--help)\n", verb ? (verb->get_name() + ": ").c_str() : "",
                 e.what(), verb ? (verb->get_name() + " ").c_str() : "");
    return 2;
  }
  verb = selected();
  try {
    if (std::string bad = unknown_argument(app, verb); !bad.empty()) fail(bad);
    if (verb) {
      g.verb = verb->get_name();
      const Modes m = check_applicable(*verb);
      if (std::getenv("SQUINT_TEST_APPLIES")) {  // the option audit's dry run (tests/test_option_audit.cpp)
        std::string on;
        for (const auto& id : m.on) on += " " + id;
        fmt::print("applies:{}\n", on);
        return 0;
      }
      for (auto& [sub, run] : runners)
        if (sub == verb) return run();
    } else if (std::getenv("SQUINT_TEST_APPLIES")) {
      return 0;
    }
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
  // No verb: the list of verbs, one line each, on stderr; exit 2 (nothing was done).
  fmt::print(stderr, "usage: squint [-q] [-j N] VERB ...   (squint VERB --help for its options)\n\nverbs:\n");
  for (auto& [sub, run] : runners) fmt::print(stderr, "  {:<12} {}\n", sub->get_name(), sub->get_description());
  fmt::print(stderr, "\nsquint --help for global options, squint --version for the build\n");
  return 2;
}

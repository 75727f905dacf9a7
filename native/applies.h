#pragma once
// Every option of every verb either applies to an invocation or is refused, never silently ignored (issue 26).
// Where an option is declared, it says when it applies:
//
//   always(app.add_option("--floor", o->floor, "..."));                 // every invocation uses it
//   only_with(app.add_option("--seed", o->seed, "..."), given("--text"));  // only when --text is given too
//   only_with(app.add_option("--types", o->types, "..."), mode::gguf);  // only when the verb runs in GGUF mode
//
// only_with may be called several times (or with several modes): all must hold. given("--x") is on when that
// option of the same verb was given; every other mode is on when the verb's mode function says so. A verb
// whose modes depend on its inputs (the format of an analysis file, -o NAME.gguf, a budget or a plan, the
// input being a GGUF file) registers that function with set_modes(app, ...): it runs after parsing and
// before any work, must be cheap (flags, a file's magic) and may itself refuse a contradictory combination.
// main then refuses any given option whose modes are not all on: one line naming the verb, the option, what
// it needs and what this invocation is; exit 2, nothing done.
//
// tests/test_option_audit.cpp enumerates every option of every verb: an option declared neither way fails it,
// and each conditional option must be refused by one of the verb's sample invocations and accepted by another.
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace squint {

struct Mode {
  std::string id;      // "gguf", "budget", ... or an option name ("--text") for given()
  std::string phrase;  // completes "--X applies only ...": "with GGUF types (--format gguf or a GGUF analysis)"
};

// On when option `name` of the same verb was given.
Mode given(const std::string& name);

// Modes several verbs share (a verb may define its own Mode constants beside its options).
namespace mode {
extern const Mode gguf;         // GGUF types/output: --format gguf, a GGUF analysis or plan, -o NAME.gguf
extern const Mode mlx;          // MLX (bits, group) configs/output: the default format
extern const Mode model;        // the input is a model that this run analyses (not an analysis.json)
extern const Mode budget;       // a budget: --budget, --bpw or --min-safe (quantize plans in memory)
extern const Mode safetensors;  // the input is a safetensors model, not a GGUF file
extern const Mode table;        // the table for people is printed (no --json; -q silences it but it is still asked for)
extern const Mode sampled;      // eval windows are sampled (--samples K, not 0): imatrix, sweep
}  // namespace mode

// What the verb's invocation is: the modes that are on and, for a refusal, why one is off ("a.json is an
// MLX analysis"); `what` is said when a mode has no reason of its own.
struct Modes {
  std::set<std::string> on;
  std::map<std::string, std::string> why_off;
  std::string what;
  Modes& set(const Mode& m, bool is_on, const std::string& why = "") {
    if (is_on)
      on.insert(m.id);
    else if (!why.empty())
      why_off[m.id] = why;
    return *this;
  }
};

CLI::Option* always(CLI::Option* opt);
CLI::Option* only_with(CLI::Option* opt, const Mode& m);
CLI::Option* only_with(CLI::Option* opt, std::initializer_list<Mode> all);
void set_modes(CLI::App& verb, std::function<Modes()> modes);

// main, after parsing and before running the verb: evaluates its modes and throws squint::Error for the
// first given option that does not apply. Returns the modes (given() ones included) for the audit's dry run.
Modes check_applicable(CLI::App& verb);

// For the audit: how an option was declared (nullptr: not at all).
struct Applicability {
  std::vector<Mode> needs;  // empty: always
  std::string name;         // of the option declared (applies.cpp keys declarations by address)
};
const Applicability* applicability(const CLI::Option* opt);
// "--output" for -o,--output; hidden options too (CLI11's get_name() is empty for them).
std::string option_name(const CLI::Option* opt);

}  // namespace squint

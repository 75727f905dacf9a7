// The silent-drop audit (issue 26): every option of every verb either applies to an invocation or is refused.
// The verbs and their options are enumerated from the registry (not hand-picked): each option must declare
// when it applies (native/applies.h), and each one is added to every sample invocation of its verb below and
// run in the CLI's dry run (SQUINT_TEST_APPLIES=1: parse, decide the verb's modes, check the options, stop
// before any work). An option is then either accepted with all it needs on, or refused with one line naming
// it; a conditional option must be refused by some sample invocation and accepted by another.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "applies.h"
#include "command.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {

// Sample invocations per verb ({M} model, {T} text, {A}/{AG} MLX/GGUF analysis, {G} GGUF file, {Q} MLX
// quantized folder, {P} MLX plan, {D} a scratch folder). A new verb needs a line here (the audit fails
// without); a new mode needs an invocation where it is off and one where it is on.
const std::map<std::string, std::vector<std::string>> kSamples = {
    {"synth", {"{D}/s"}},
    {"inspect", {"{M}", "{G}"}},
    {"analyze", {"{M}", "{M} --json", "{M} --calibrate {T}", "--merge {D}/p1.json {D}/p2.json"}},
    {"imatrix", {"{M} --text {T} -o {D}/im.gguf", "{M} --text {T} --samples 2 -o {D}/im.gguf"}},
    {"plan",
     {"{A} --bpw 7", "{AG} --min-safe", "{A} --budget 200KB", "{M} --bpw 7", "{M} --bpw 7 --select-text {T}",
      "{M} --bpw 7 --calibrate {T}"}},
    {"curve", {"{A}", "{AG}", "{M}", "{M} --format gguf"}},
    {"quantize",
     {"{M} --plan {P} -o {D}/q", "{M} --bpw 7 -o {D}/q", "{M} --format gguf --bpw 7 -o {D}/q.gguf",
      "{M} --type Q8_0 -o {D}/q.gguf", "{M} -o {D}/f.gguf", "{M} -o {D}/q"}},
    {"gate", {"{M} {Q}", "{M} {Q} --json"}},
    {"dequantize", {"{Q} -o {D}/dq"}},
    {"eval", {"{M} --text {T}", "{M} --text {T} --samples 4", "{G} --text {T} --samples 4"}},
    {"sweep", {"{M} --text {T}", "{M} --text {T} --samples 0", "{M} --text {T} --calibrate {T}"}},
    {"drift", {"{M} {M}", "{M} {M} --text {T}"}},
    {"generate", {"{M}", "{M} --json"}},
    {"tokenize", {"{M} --text {T}"}},
    {"compare", {"{D}/e.json {D}/e.json"}},
    {"convert-gguf", {"{Q} -o {D}/c.gguf"}},
    {"clean", {"{D}"}},
};

// Values for options whose default (or type) does not give a valid one; "VERB --opt" before "--opt".
const std::map<std::string, std::string> kValues = {
    {"--budget", "200KB"},
    {"--types", "Q4_K"},
    {"--prior", "*=1"},
    {"--preset", "mint8"},
    {"--bits", "4"},
    {"--group-sizes", "32"},
    {"--format", "gguf"},
    {"--type", "Q8_0"},
    {"quantize --dtype", "float16"},
    {"curve --calibrate", "200KB:6"},
    {"--objectives", "mse"},
    {"--priors", "flat"},
    {"synth --preset", "tiny"},
    {"--configs", "4/64"},
    {"--dtype", "float32"},
    {"--bpw", "5"},
    {"--part", "1/2"},
    {"--output-format", "gguf"},
};

struct Option {
  std::string name;
  bool flag = false;
  std::string value;
  const Applicability* decl = nullptr;
};

std::string value_for(const std::string& verb, const CLI::Option* o) {
  if (auto it = kValues.find(verb + " " + option_name(o)); it != kValues.end()) return it->second;
  if (auto it = kValues.find(option_name(o)); it != kValues.end()) return it->second;
  if (!o->get_default_str().empty() && o->get_default_str()[0] != '[') return o->get_default_str();
  const std::string t = o->get_type_name();
  if (t.find("INT") != std::string::npos) return "3";
  if (t.find("FLOAT") != std::string::npos) return "1.5";
  return "x";
}

// Every verb's options, from the registry as main builds it, once per process: declarations are kept by
// option address (applies.cpp), so a second App could reuse a freed option's address.
const std::map<std::string, std::vector<Option>>& verb_options() {
  static CLI::App top;
  static std::map<std::string, std::vector<Option>> out;
  if (!out.empty()) return out;
  for (const Command& c : command_registry()) {
    CLI::App* sub = top.add_subcommand(c.name);
    (void)c.setup(*sub);
    for (const CLI::Option* o : sub->get_options()) {
      if (o == sub->get_help_ptr()) continue;
      Option e;
      e.name = option_name(o);
      e.flag = o->get_expected_max() == 0;  // a flag takes no value
      e.value = e.flag ? "" : value_for(c.name, o);
      e.decl = applicability(o);
      out[c.name].push_back(e);
    }
  }
  return out;
}

// What is wrong with the declarations of `verbs` (empty: nothing).
std::vector<std::string> declaration_problems(const std::map<std::string, std::vector<Option>>& verbs) {
  std::vector<std::string> bad;
  for (const auto& [verb, opts] : verbs) {
    if (!kSamples.count(verb)) bad.push_back(verb + ": no sample invocation in kSamples (tests/test_option_audit.cpp)");
    for (const Option& o : opts)
      if (!o.decl) bad.push_back(verb + " " + o.name + ": declare it with always() or only_with() (native/applies.h)");
  }
  return bad;
}

// One dry run of an option added to a sample invocation.
struct DryRun {
  std::string command;
  int rc = 0;
  std::string output;  // stdout + stderr
};

// The modes a dry run printed ("applies: gguf --types ..."), empty when it was refused.
std::set<std::string> modes_of(const DryRun& r) {
  std::set<std::string> on;
  if (r.rc != 0 || !r.output.starts_with("applies:")) return on;
  const std::string line = r.output.substr(8, r.output.find('\n') - 8);
  for (std::size_t p = 0; p < line.size();) {
    std::size_t q = line.find(' ', p + 1);
    if (q == std::string::npos) q = line.size();
    if (q > p + 1) on.insert(line.substr(p + 1, q - p - 1));
    p = q;
  }
  return on;
}

// What is wrong with one option's dry runs (empty: nothing): accepted only with all it needs on; refused
// with exit 2 in one line naming the verb and the option; a conditional option both accepted and refused.
// `given`: dry runs of the samples that give the option themselves (required options, budgets), which count
// as acceptances.
std::vector<std::string> verdict_problems(const std::string& verb, const Option& o, const std::vector<DryRun>& runs,
                                          const std::vector<DryRun>& given = {}) {
  std::vector<std::string> bad;
  int accepted = 0, refused = 0;
  for (const DryRun& r : given) {
    const auto on = modes_of(r);
    for (const Mode& m : o.decl->needs)
      if (!on.count(m.id)) bad.push_back("squint " + r.command + " (a sample accepted without " + m.id + ")");
    ++accepted;
  }
  for (const DryRun& r : runs) {
    const std::string where = "squint " + r.command + " -> exit " + std::to_string(r.rc) + ": " + r.output;
    if (r.rc == 0) {
      if (!r.output.starts_with("applies:")) {
        bad.push_back(where + " (no dry-run line)");
        continue;
      }
      const auto on = modes_of(r);
      if (!on.count(o.name)) bad.push_back(where + " (the option is not among the given ones)");
      for (const Mode& m : o.decl->needs)
        if (!on.count(m.id)) bad.push_back(where + " (accepted without " + m.id + ")");
      ++accepted;
      continue;
    }
    if (r.rc != 2 || !r.output.starts_with("squint: error: " + verb + ": ") ||
        std::count(r.output.begin(), r.output.end(), '\n') != 1 || r.output.find(o.name) == std::string::npos) {
      bad.push_back(where + " (a refusal is exit 2, one line, 'squint: error: VERB: ' naming the option)");
      continue;
    }
    if (r.output.find(o.name + " applies only") != std::string::npos) {
      if (o.decl->needs.empty()) bad.push_back(where + " (declared always, refused as inapplicable)");
      ++refused;
    }
  }
  if (!accepted) bad.push_back(verb + " " + o.name + ": no sample invocation accepts it (kSamples)");
  if (!o.decl->needs.empty() && !refused)
    bad.push_back(verb + " " + o.name +
                  ": no sample invocation refuses it, so its condition is never tested (kSamples)");
  return bad;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

}  // namespace

TEST_CASE("option audit: every option of every verb declares when it applies", "[cli][audit]") {
  const auto& verbs = verb_options();
  CHECK(verbs.size() >= 16);
  std::size_t n = 0;
  for (const auto& [verb, opts] : verbs) n += opts.size();
  CHECK(n > 150);
  const auto bad = declaration_problems(verbs);
  INFO(join(bad));
  CHECK(bad.empty());

  // Negative control: an option added without a declaration is found.
  CLI::App fake;
  std::string x;
  CLI::App* sub = fake.add_subcommand("plan");
  sub->add_option("--undeclared", x, "");
  std::map<std::string, std::vector<Option>> with_fake = {{"plan", {}}};
  for (const CLI::Option* o : sub->get_options())
    if (o != sub->get_help_ptr()) with_fake["plan"].push_back({option_name(o), false, "x", applicability(o)});
  const auto found = declaration_problems(with_fake);
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0], Catch::Contains("plan --undeclared: declare it"));
}

TEST_CASE("option audit: each option is accepted with all it needs, or refused in one line naming it",
          "[cli][audit][slow]") {
  TempDir d;
  const std::string M = shared_dir() + "/models/stories260K";
  write_text(d.str("t.txt"), "Once upon a time there was a cat.\n\nThe cat sat on the mat.\n");
  REQUIRE(run(cli() + " -q analyze " + M + " -o " + d.str("a.json")) == 0);
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf --bits 8 -o " + d.str("ag.json")) == 0);
  REQUIRE(run(cli() + " -q plan " + d.str("a.json") + " --bpw 7 -o " + d.str("p.json")) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --plan " + d.str("p.json") + " -o " + d.str("q")) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf -o " + d.str("m.gguf")) == 0);
  std::filesystem::create_directories(d.path / "scratch");
  const std::map<std::string, std::string> files = {{"{M}", M},
                                                    {"{T}", d.str("t.txt")},
                                                    {"{AG}", d.str("ag.json")},
                                                    {"{A}", d.str("a.json")},
                                                    {"{G}", d.str("m.gguf")},
                                                    {"{Q}", d.str("q")},
                                                    {"{P}", d.str("p.json")},
                                                    {"{D}", d.str("scratch")}};

  // The trap of issue 26, on the real CLI: --types on an MLX plan was dropped (exit 0, an MLX plan).
  std::string out;
  CHECK(run(cli() + " plan " + d.str("a.json") + " --bpw 7 --types Q4_K", &out) == 2);
  CHECK(out ==
        "squint: error: plan: --types applies only to GGUF (--format gguf, a GGUF analysis or plan, -o "
        "NAME.gguf); " +
            d.str("a.json") + " is an MLX analysis (analysis options belong to squint analyze)\n");

  const auto& verbs = verb_options();
  std::size_t runs = 0;
  std::vector<std::string> bad;
  for (const auto& [verb, opts] : verbs) {
    auto samples = kSamples.find(verb);
    if (samples == kSamples.end()) continue;  // the first test case fails on it
    // Each sample on its own must be accepted; the options it gives count as accepted there.
    std::vector<DryRun> alone;
    for (const std::string& base : samples->second) {
      DryRun r;
      r.command = verb + " " + fill(base, files);
      r.rc = run("SQUINT_TEST_APPLIES=1 " + cli() + " " + r.command, &r.output);
      if (r.rc != 0)
        bad.push_back("squint " + r.command + " -> exit " + std::to_string(r.rc) + ": " + r.output +
                      " (a sample must be accepted)");
      alone.push_back(r);
      ++runs;
    }
    for (const Option& o : opts) {
      if (!o.decl || o.name.empty() || o.name[0] != '-') continue;  // positionals: the samples give them
      std::vector<DryRun> dry, given;
      for (std::size_t k = 0; k < samples->second.size(); ++k) {
        const std::string& base = samples->second[k];
        if (modes_of(alone[k]).count(o.name)) {  // the sample gives it already
          given.push_back(alone[k]);
          continue;
        }
        DryRun r;
        r.command = verb + " " + fill(base, files) + " " + o.name + (o.flag ? "" : " '" + o.value + "'");
        r.rc = run("SQUINT_TEST_APPLIES=1 " + cli() + " " + r.command, &r.output);
        dry.push_back(r);
        ++runs;
      }
      for (auto& p : verdict_problems(verb, o, dry, given)) bad.push_back(std::move(p));
    }
  }
  INFO(join(bad));
  CHECK(bad.empty());
  CHECK(runs > 300);

  // Negative controls of the verdict: a conditional option that every sample accepts, and one refused by an
  // error that does not name it, are both reported.
  Applicability cond;
  cond.needs.push_back(mode::gguf);
  const Option fake{"--fake", true, "", &cond};
  CHECK_THAT(join(verdict_problems("plan", fake, {{"plan a --fake", 0, "applies: gguf --fake\n"}})),
             Catch::Contains("no sample invocation refuses it"));
  CHECK_THAT(join(verdict_problems("plan", fake, {{"plan a --fake", 0, "applies: mlx --fake\n"}})),
             Catch::Contains("accepted without gguf"));
  CHECK_THAT(join(verdict_problems("plan", fake, {{"plan a --fake", 2, "squint: error: plan: a.json: bad\n"}})),
             Catch::Contains("naming the option"));
}

#include "applies.h"

#include <map>

#include "util/error.h"

namespace squint {

namespace {
std::map<const CLI::Option*, Applicability>& declarations() {
  static std::map<const CLI::Option*, Applicability> d;
  return d;
}
std::map<const CLI::App*, std::function<Modes()>>& mode_functions() {
  static std::map<const CLI::App*, std::function<Modes()>> m;
  return m;
}
bool is_given_mode(const Mode& m) { return !m.id.empty() && m.id[0] == '-'; }
}  // namespace

std::string option_name(const CLI::Option* opt) {  // get_name() is empty for hidden options
  if (!opt->get_lnames().empty()) return "--" + opt->get_lnames()[0];
  if (!opt->get_snames().empty()) return "-" + opt->get_snames()[0];
  return opt->get_name(true);
}

Mode given(const std::string& name) { return {name, "with " + name}; }

namespace mode {
const Mode gguf{"gguf", "to GGUF (--format gguf, a GGUF analysis or plan, -o NAME.gguf)"};
const Mode mlx{"mlx", "to MLX (bits, group) configs, the default format (not --format gguf or a GGUF analysis)"};
const Mode model{"model", "when the input is a model analysed by this run, not an analysis.json"};
const Mode budget{"budget", "with a budget (--budget, --bpw or --min-safe), which this run plans"};
const Mode safetensors{"safetensors", "to a safetensors model (folder or .safetensors), not a GGUF file"};
const Mode table{"table", "to the table printed for people (not with --json)"};
const Mode sampled{"sampled", "when windows are sampled (--samples K, not 0)"};
}  // namespace mode

namespace {
// The declaration of `opt`, fresh if the address last held another option (an App built and freed before, as
// in tests that build the verbs more than once).
Applicability& declaration_of(const CLI::Option* opt) {
  Applicability& a = declarations()[opt];
  if (a.name != option_name(opt)) a = Applicability{{}, option_name(opt)};
  return a;
}
}  // namespace

CLI::Option* always(CLI::Option* opt) {
  declaration_of(opt);
  return opt;
}

CLI::Option* only_with(CLI::Option* opt, const Mode& m) {
  declaration_of(opt).needs.push_back(m);
  return opt;
}

CLI::Option* only_with(CLI::Option* opt, std::initializer_list<Mode> all) {
  for (const Mode& m : all) only_with(opt, m);
  return opt;
}

void set_modes(CLI::App& verb, std::function<Modes()> modes) { mode_functions()[&verb] = std::move(modes); }

const Applicability* applicability(const CLI::Option* opt) {
  auto it = declarations().find(opt);
  return it == declarations().end() || it->second.name != option_name(opt) ? nullptr : &it->second;
}

Modes check_applicable(CLI::App& verb) {
  Modes m;
  if (auto it = mode_functions().find(&verb); it != mode_functions().end()) m = it->second();
  for (const CLI::Option* opt : verb.get_options()) {
    if (opt->count() == 0) continue;
    m.on.insert(option_name(opt));  // given() modes, also shown by the audit's dry run
  }
  for (const CLI::Option* opt : verb.get_options()) {
    if (opt->count() == 0) continue;
    const Applicability* a = applicability(opt);
    if (!a) continue;  // undeclared: the audit test fails on it; at run time it behaves as before
    for (const Mode& need : a->needs) {
      if (m.on.count(need.id)) continue;
      std::string msg = verb.get_name() + ": " + option_name(opt) + " applies only " + need.phrase;
      if (auto w = m.why_off.find(need.id); w != m.why_off.end())
        msg += "; " + w->second;
      else if (!is_given_mode(need) && !m.what.empty())
        msg += "; " + m.what;
      fail(msg);
    }
  }
  return m;
}

}  // namespace squint

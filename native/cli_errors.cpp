#include "cli_errors.h"

#include "applies.h"
#include "util/closest.h"

namespace squint {

namespace {

void add_names(const CLI::App& app, std::vector<std::string>& names) {
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden options are not suggested
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
}

std::string suggestion(const std::string& given, const std::vector<std::string>& names) {
  const std::string c = closest_name(given, names);
  return c.empty() ? "" : " (did you mean " + c + "?)";
}

}  // namespace

std::string unknown_argument(const CLI::App& top, const CLI::App* verb) {
  if (!verb) {
    const auto rest = top.remaining();
    if (rest.empty()) return "";
    const std::string& a = rest.front();
    if (a.starts_with("-")) {
      std::vector<std::string> names;
      add_names(top, names);
      return "unknown option " + a + suggestion(a, names) + "; squint --help lists the global options";
    }
    std::vector<std::string> verbs;
    const std::function<bool(const CLI::App*)> all = [](const CLI::App*) { return true; };
    for (const CLI::App* s : top.get_subcommands(all)) verbs.push_back(s->get_name());
    return "unknown verb '" + a + "'" + suggestion(a, verbs) + "; bare `squint` lists the verbs";
  }
  // Extras after the verb may land on the verb or, through fallthrough, on the top level.
  auto rest = verb->remaining();
  for (const auto& a : top.remaining()) rest.push_back(a);
  if (rest.empty()) return "";
  const std::string v = verb->get_name();
  for (const auto& a : rest) {
    if (!a.starts_with("-") || a == "-") continue;
    const std::string name = a.substr(0, a.find('='));
    std::vector<std::string> names;
    add_names(*verb, names);
    add_names(top, names);  // -q, -j after the verb
    return v + ": unknown option " + name + suggestion(name, names) + "; squint " + v + " --help lists its options";
  }
  return v + ": unexpected argument '" + rest.front() + "'; squint " + v + " --help lists what it takes";
}

}  // namespace squint

#include "output.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "util/error.h"

namespace squint {

void add_output_options(CLI::App& app, OutputCli& o, const std::string& what) {
  always(app.add_flag("--json", o.json, "print " + what + " as JSON on stdout"));
  // A JSON document named like a model (plan -o mix.gguf) would pass for one: refused before any work.
  auto not_a_model_name = [what](std::string& f) -> std::string {
    for (const char* ext : {".gguf", ".safetensors"})
      if (f.ends_with(ext))
        return f + " names a model file, but -o here writes " + what +
               " (JSON), not a model; squint quantize writes models";
    return "";
  };
  always(app.add_option("-o,--output", o.file, "write " + what + " (JSON) to this file")
             ->check(CLI::Validator(not_a_model_name, "FILE")));
}

std::string json_document(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("format") || !doc.contains("version"))
    throw std::logic_error("JSON document without format/version");
  return doc.dump(2) + "\n";
}

void emit_document(const OutputCli& o, const std::string& text) {
  if (!o.file.empty()) {
    write_file_atomic(o.file, text);
    note_wrote(o.file);
  }
  if (o.json) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
}

void emit_document(const OutputCli& o, const nlohmann::json& doc) {
  if (!o.file.empty() || o.json) emit_document(o, json_document(doc));
}

bool human_stdout(const OutputCli& o) { return !o.json && !global_options().quiet; }

void note_wrote(const std::string& path, const std::string& detail) {
  if (!global_options().quiet) fmt::print(stderr, "wrote {}{}\n", path, detail.empty() ? "" : detail);
}

void note(const std::string& line) {
  if (!global_options().quiet) fmt::print(stderr, "{}\n", line);
}

std::vector<std::string> rewrite_legacy_json(const std::vector<std::string>& args,
                                             const std::vector<std::string>& legacy_verbs) {
  std::vector<std::string> out;
  std::size_t i = 0;
  bool quiet = false;  // parsing has not happened yet: read -q ourselves
  // Global options come before the verb.
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    out.push_back(a);
    if (i == 0) continue;  // program name
    if ((a == "-j" || a == "--threads") && i + 1 < args.size()) {
      out.push_back(args[++i]);
      continue;
    }
    if (a == "-q" || a == "--quiet") quiet = true;
    if (!a.empty() && a[0] == '-') continue;
    break;  // the verb
  }
  if (i >= args.size()) return args;
  const bool legacy = std::find(legacy_verbs.begin(), legacy_verbs.end(), args[i]) != legacy_verbs.end();
  for (++i; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string file;
    if (legacy && a.starts_with("--json=")) {
      file = a.substr(7);
    } else if (legacy && a == "--json" && i + 1 < args.size() && !args[i + 1].starts_with("-")) {
      std::error_code ec;
      if (!std::filesystem::is_directory(args[i + 1], ec)) file = args[++i];
    }
    if (file.empty()) {
      out.push_back(a);
      continue;
    }
    if (!quiet)
      fmt::print(stderr, "squint: note: `--json FILE` is deprecated, use `-o {}` (--json alone prints JSON on stdout)\n",
                 file);
    out.push_back("--output=" + file);
  }
  return out;
}

}  // namespace squint

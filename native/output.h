#pragma once
// The CLI's output contract, one place for every verb (README "Output contract"):
//  - a verb's result goes to stdout; `-o FILE` writes its JSON document to FILE (atomically);
//  - `--json` prints that JSON document on stdout instead of the table (with -o too: both);
//  - diagnostics, warnings, progress, timings and "wrote X" go to stderr;
//  - -q silences all of that and the tables for people on stdout; the JSON (--json, -o), written files,
//    data a verb exists to print (tokenize's ids, generate's text) and the exit code stay the same;
//  - every JSON document has "format" and "version" and no timings, so outputs are byte-reproducible.
#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace squint {

struct OutputCli {
  bool json = false;  // --json: the document on stdout
  std::string file;   // -o FILE: the document in FILE
};

// Adds --json and -o/--output to a verb; `what` names the document in --help ("the gate report").
void add_output_options(CLI::App& app, OutputCli& o, const std::string& what);

// The one serialisation of a document: 2-space indent and a final newline. Fails (a programming error)
// if "format" or "version" is missing.
std::string json_document(const nlohmann::json& doc);

// Writes the document where the flags say: stdout with --json, FILE with -o (then "wrote FILE" on stderr).
void emit_document(const OutputCli& o, const nlohmann::json& doc);
void emit_document(const OutputCli& o, const std::string& serialized);

// True when stdout is for people (no --json, no -q): tables and summaries may be printed there.
bool human_stdout(const OutputCli& o);

// "wrote PATH" (and optional detail) on stderr unless -q.
void note_wrote(const std::string& path, const std::string& detail = "");
// A diagnostic line on stderr unless -q ("squint: " is not prefixed: pass the whole line).
void note(const std::string& line);

// Verbs whose --json once took a file name (gate, curve, eval): `--json FILE` / `--json=FILE` is rewritten
// to `-o FILE` with a one-line deprecation note on stderr. FILE is the next token when it is not an option
// and not an existing folder (so `gate ORIG --json QUANT_DIR` keeps meaning JSON on stdout).
std::vector<std::string> rewrite_legacy_json(const std::vector<std::string>& args,
                                             const std::vector<std::string>& legacy_verbs);

}  // namespace squint

#pragma once
// Arguments CLI11 could not place (every verb allows extras so that squint, not CLI11, words the error):
// "plan: unknown option --budjet (did you mean --budget?)", "unknown verb 'plna' (did you mean plan?)".
#include <CLI/CLI.hpp>
#include <string>

namespace squint {

// The error for the first argument nothing took (empty: none). `verb` is the selected verb or null.
std::string unknown_argument(const CLI::App& top, const CLI::App* verb);

}  // namespace squint

#pragma once
// analysis.json: the document `squint analyze -o` writes and `squint plan` / the page read.
// Schema: docs/analysis-schema.md.
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/analysis.h"

namespace squint {

nlohmann::json analysis_to_json(const Analysis& a);
// The bytes of analysis.json (the CLI's -o and the page's download are the same bytes).
std::string serialize_analysis(const Analysis& a);
// A candidate as JSON: {"bits", "group_size"} (MLX), plus "type" for a GGUF type (analysis and plan files).
nlohmann::json config_json(QConfig c);
// Throws squint::Error naming `source` on a malformed document.
Analysis analysis_from_json(const nlohmann::json& j, const std::string& source);
Analysis parse_analysis(const std::string& text, const std::string& source);
// One entry of the document's "tensors" array, and back (its configs must be of `format`; errors name
// `source` and the tensor). Partial outputs (analysis parts, the resume journal) store tensors this way.
nlohmann::json tensor_to_json(const TensorAnalysis& t);
TensorAnalysis tensor_from_json(const nlohmann::json& e, QFormat format, const std::string& source);

// The articles' table: one row per config with min/P5/median/P95/max SQNR and counts below 9 and 15 dB.
struct SqnrRow {
  QConfig config;
  std::size_t tensors = 0;
  double min = 0, p5 = 0, median = 0, p95 = 0, max = 0;
  std::size_t below9 = 0, below15 = 0;
};
std::vector<SqnrRow> sqnr_table(const Analysis& a);
std::string format_sqnr_table(const std::vector<SqnrRow>& rows);
nlohmann::json sqnr_table_json(const std::vector<SqnrRow>& rows);

}  // namespace squint

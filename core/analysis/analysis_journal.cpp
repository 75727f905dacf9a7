#include "analysis/analysis_journal.h"

#include <cstdio>
#include <set>

#include "analysis/analysis_json.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

using nlohmann::json;

namespace {
// FNV-1a, 64 bits: enough to tell a whole line from one cut short, and a few lines in any language.
std::string hex_hash(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}
// Compact JSON escapes every control character inside strings, so the line's only tab is the separator.
std::string framed(const json& j) {
  const std::string body = j.dump();
  return body + "\t" + hex_hash(body) + "\n";
}
}  // namespace

std::string journal_header_line(const AnalysisIdentity& id) {
  json j;
  j["format"] = kJournalFormat;
  j["version"] = kJournalVersion;
  identity_to_json(id, j);
  return framed(j);
}

std::string journal_record_line(std::size_t index, const TensorAnalysis& t) {
  return framed(json{{"index", index}, {"tensor", tensor_to_json(t)}});
}

JournalRead read_journal(const std::string& text, const AnalysisIdentity& id, const std::string& source) {
  JournalRead r;
  const QFormat format = id.header.value("quant_format", std::string("mlx")) == "gguf" ? QFormat::Gguf : QFormat::Mlx;
  std::set<std::size_t> seen;
  std::size_t pos = 0, line_no = 0;
  const std::string again = "; remove it to start over";
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    const std::size_t tab = line.rfind('\t');
    const bool intact =
        nl != std::string::npos && tab != std::string::npos && line.substr(tab + 1) == hex_hash(line.substr(0, tab));
    ++line_no;
    if (!intact) {
      if (nl == std::string::npos || nl + 1 == text.size()) {  // the last line: a write cut short by a kill
        r.torn_tail = true;
        break;
      }
      fail(source + ": line " + std::to_string(line_no) + " is damaged (not a line squint wrote whole)" + again);
    }
    const json j = json::parse(line.substr(0, tab), nullptr, false);
    if (j.is_discarded()) fail(source + ": line " + std::to_string(line_no) + " is not JSON" + again);
    try {
      if (line_no == 1) {
        if (!j.is_object() || j.value("format", json()) != kJournalFormat ||
            j.value("version", json()) != kJournalVersion)
          fail(source + ": not a squint analysis journal of this version" + again);
        const AnalysisIdentity jid = identity_from_json(j, source);
        const std::string why = identity_mismatch(id, "this run", jid, source, true);
        if (!why.empty()) fail(why + "; remove it, or run without --resume to start over");
      } else {
        const auto index = json_int_at<uint64_t>(j, "index", source + ": line " + std::to_string(line_no));
        if (index >= id.tensor_count)
          fail(source + ": line " + std::to_string(line_no) + ": tensor index " + std::to_string(index) +
               " out of range" + again);
        if (!seen.insert(index).second)
          fail(source + ": line " + std::to_string(line_no) + ": tensor #" + std::to_string(index) + " recorded twice" +
               again);
        if (!j.contains("tensor")) fail(source + ": line " + std::to_string(line_no) + ": missing 'tensor'" + again);
        r.records.emplace_back(static_cast<std::size_t>(index), tensor_from_json(j["tensor"], format, source));
      }
    } catch (const json::exception& e) {
      fail(source + ": line " + std::to_string(line_no) + " is malformed (" + std::string(e.what()) + ")" + again);
    }
    pos = nl + 1;
    r.valid_bytes = pos;
  }
  return r;
}

}  // namespace squint

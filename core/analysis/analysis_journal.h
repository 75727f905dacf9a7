#pragma once
// The resume journal: the durable partial output of an analysis run. `squint analyze -o OUT` appends each
// measured tensor to OUT.journal as it finishes and removes the journal once OUT is written; after a kill,
// `--resume` reads it back and measures only what is missing, so the result is the bytes of an
// uninterrupted run. The format and its checks live here; native/ owns the file (append, fsync, lock).
//
// Line 1: {"format": "squint.analysis_journal", "version": 1, <the run's identity>}; then one line per
// tensor: {"index": i, "tensor": <its analysis.json entry>}. Every line is compact JSON, a tab, the FNV-1a
// 64-bit hash of that JSON in hex and a newline, so a line cut short by a kill (no newline, or a hash that
// does not match) is recognised: the last such line is dropped, one before the end means the file was
// damaged (an error).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "analysis/analysis.h"
#include "analysis/analysis_parts.h"

namespace squint {

constexpr const char* kJournalFormat = "squint.analysis_journal";
constexpr int kJournalVersion = 1;

std::string journal_header_line(const AnalysisIdentity& id);
std::string journal_record_line(std::size_t index, const TensorAnalysis& t);

struct JournalRead {
  std::vector<std::pair<std::size_t, TensorAnalysis>> records;  // in the order written
  uint64_t valid_bytes = 0;  // the intact prefix; appending continues after it (0: start a new journal)
  bool torn_tail = false;    // a last line was cut short and dropped
};

// Reads `text`, the journal at `source`, for the run `id`. A journal of another run (another model,
// options, squint, part) is an error that says which and how to start over; so is a damaged line, a
// duplicate or an out-of-range index.
JournalRead read_journal(const std::string& text, const AnalysisIdentity& id, const std::string& source);

}  // namespace squint

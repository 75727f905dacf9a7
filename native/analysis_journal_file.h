#pragma once
// OUT.journal on disk (the format and its checks: core/analysis/analysis_journal.h). One run holds it,
// locked (flock), from the first tensor it records (or from the start, when it resumes one) until OUT is
// written and the journal removed. Each tensor's line is one write(2): once written it survives a kill of
// the process; fsync runs at most once a second, so a power cut loses at most the last second of work.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "analysis/analysis_journal.h"

namespace squint {

std::string journal_path(const std::string& out);

class JournalFile {
 public:
  // With `resume`, reads back what the journal at `path` holds for the run `id` (an error if it belongs to
  // another run), dropping a line a kill cut short. Without, an existing journal is replaced at the first
  // record (a note says so). A journal another live squint holds is an error either way.
  JournalFile(std::string path, AnalysisIdentity id, bool resume);
  ~JournalFile();
  JournalFile(const JournalFile&) = delete;
  JournalFile& operator=(const JournalFile&) = delete;

  // The tensors read back (empty without resume); moves them out.
  std::vector<std::pair<std::size_t, TensorAnalysis>> take_resumed() { return std::move(resumed_); }
  // Appends tensor i's line (creating and locking the journal at the first one).
  void append(std::size_t i, const TensorAnalysis& t);
  // OUT is written: the journal is done.
  void remove();

 private:
  void open_locked(bool create);
  void write_all(const std::string& bytes);

  std::string path_;
  AnalysisIdentity id_;
  int fd_ = -1;
  uint64_t end_ = 0;             // bytes of the journal that stay (appending continues here)
  bool header_written_ = false;  // the file holds this run's header line (up to end_)
  long appended_ = 0;
  std::chrono::steady_clock::time_point last_sync_;
  std::vector<std::pair<std::size_t, TensorAnalysis>> resumed_;
};

}  // namespace squint

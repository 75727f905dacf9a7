#pragma once
// An importance matrix (llama.cpp's imatrix, io/imatrix.h) applied to one checkpoint: which imatrix it is (what
// an analysis and a plan record, so that `quantize` can refuse another one), and per tensor the weights ggml's
// quantizers receive (what llama-quantize would pass for the GGUF tensor of that name), the same statistic the
// `calibrated` objective weights errors with.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/column_weights.h"
#include "io/checkpoint.h"
#include "io/imatrix.h"

namespace squint {

// Which imatrix: recorded in analysis.json and plan.json ("imatrix"), compared by `quantize`.
struct ImatrixRef {
  std::string file;    // the file's name as given (for messages; not compared)
  std::string hash;    // content_hash of the file: what "the same imatrix" means
  std::string format;  // "gguf" | "dat"
  int32_t chunk_count = 0, chunk_size = 0;
  std::vector<std::string> datasets;
  uint64_t entries = 0;
  bool empty() const { return hash.empty(); }
  std::string describe() const;  // "FILE (xxh64:…, 12 chunks of 512 tokens)"
};
nlohmann::json imatrix_ref_json(const ImatrixRef& r);
ImatrixRef imatrix_ref_from_json(const nlohmann::json& j, const std::string& where);  // throws on a malformed record

// The imatrix matched to a checkpoint's tensors.
struct ModelImatrix {
  ImatrixRef ref;
  // By checkpoint (HF) tensor name: cols floats (a 3-D expert stack: cols per expert, expert-major), computed
  // as llama-quantize computes them (imatrix_quant_weights). Tensors without an entry are absent: llama.cpp
  // quantizes them without importance weights, and so does squint.
  // A stack whose experts are separate tensors (Mixtral's experts.E.w1): each expert tensor its own slice.
  std::map<std::string, std::vector<float>> weights;
  // By llama.cpp's GGUF name: the whole entry (cols per matrix, expert-major), what a GGUF tensor is quantized with.
  std::map<std::string, std::vector<float>> by_gguf;
  const std::vector<float>* find(const std::string& tensor) const;
  const std::vector<float>* find_gguf(const std::string& gguf_name) const;
};

// Every entry must name a tensor of the checkpoint (by the GGUF name llama.cpp gives it) whose rows are as long
// as the entry's and whose matrix count (experts) matches: otherwise the imatrix is for another model and this
// throws one line naming the imatrix file, the entry and the model. `file` names the imatrix in messages.
ModelImatrix match_imatrix(const Imatrix& m, const ImatrixRef& ref, const Checkpoint& ck);

// The record of an imatrix file: its hash and metadata (`file` as given, `bytes` its content).
ImatrixRef imatrix_ref_of(const Imatrix& m, const std::string& file, const ByteSource& bytes);

// The `calibrated` column weights read from the imatrix instead of recomputed from text: each tensor's own
// weights (kind "calibrated", source naming the imatrix).
ColumnWeights column_weights_from_imatrix(const ModelImatrix& mi);

// `quantize` against the plan's record: throws one line naming both when the plan was made with an imatrix and
// `given` is another one or none, or without one and `given` is one. `plan_file` names the plan.
void check_plan_imatrix(const ImatrixRef& planned, const ImatrixRef* given, const std::string& plan_file);

}  // namespace squint

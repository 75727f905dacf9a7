#pragma once
// Partitioned analysis: `squint analyze MODEL --part K/N` measures a deterministic share of the tensors, and
// `--merge` joins the N part files into the analysis.json one run would have written, byte for byte. The same
// identity also names the run a resume journal belongs to (analysis/analysis_journal.h).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/analysis.h"

namespace squint {

constexpr const char* kAnalysisPartFormat = "squint.analysis_part";
constexpr int kAnalysisPartVersion = 1;

// Part K of N (1 ≤ K ≤ N); {1, 1} is the whole analysis.
struct PartSpec {
  int index = 1, count = 1;
  bool whole() const { return count == 1; }
};
// "K/N"; nullopt for anything else (K or N not a positive integer, K > N, N > kMaxParts).
std::optional<PartSpec> parse_part_spec(const std::string& s);
constexpr int kMaxParts = 100000;

// Relative cost of measuring one tensor under the candidates (integer, so every machine computes the same
// partition): its parameters × (reading + Σ over its valid candidates of that candidate's cost per
// parameter). A GGUF K-quant costs ~100× an MLX config per parameter (docs/gguf.md), so GGUF parts are
// balanced by the K-quant-eligible parameters; 1-D and non-float tensors cost their reading only.
uint64_t analysis_cost(const TensorInfo& t, const AnalyzeOptions& opt);

// The part (0-based) of every tensor: tensors sharing a planner group key (MoE experts of one layer and
// projection, analysis/roles.h) form one unit, and units go, most costly first, to the least loaded part
// (ties: lower index first). Depends only on the checkpoint's tensor list, its config and the options.
std::vector<int> assign_parts(const Checkpoint& ck, const AnalyzeOptions& opt, int parts);
// The tensors of part p, in checkpoint order.
std::vector<std::size_t> part_tensors(const Checkpoint& ck, const AnalyzeOptions& opt, PartSpec p);

// What makes partial outputs pieces of one analysis: the document's header (fingerprint, files, candidates,
// dtype, column weighting, model shape), the options the header does not show (features), the squint build
// that measured, the split and the tensor count.
struct AnalysisIdentity {
  nlohmann::json header;    // analysis_to_json of the run's header, without "tensors"
  std::string data_sample;  // checkpoint_data_sample: the weights, not just their names and shapes
  bool features = false;
  std::string squint;  // the producing squint's version and build
  PartSpec part;
  uint64_t tensor_count = 0;
};
AnalysisIdentity analysis_identity(const Checkpoint& ck, const Analysis& header, bool features,
                                   const std::string& squint, PartSpec part);
// "xxh64:<hex>" of the first 64 bytes of every tensor (one small read per tensor).
std::string checkpoint_data_sample(const Checkpoint& ck);
// Its fields as members of a JSON object (squint, part, parts, tensor_count, data_sample, features, analysis).
void identity_to_json(const AnalysisIdentity& id, nlohmann::json& into);
AnalysisIdentity identity_from_json(const nlohmann::json& j, const std::string& source);
// Why `b` cannot be joined with `a` ("" if it can): another squint, another model, other options, another
// split (and, when same_part, another part). Phrased as "<b's source> is ... (<a's source> ...)".
std::string identity_mismatch(const AnalysisIdentity& a, const std::string& a_source, const AnalysisIdentity& b,
                              const std::string& b_source, bool same_part);

// A part file's document: the identity, the part's tensor indices (ascending) and their analysis entries.
nlohmann::json part_to_json(const AnalysisIdentity& id, const std::vector<std::size_t>& indices,
                            const Analysis& part_analysis);

struct PartFile {
  std::string source;  // how messages name it (the path)
  std::string text;
};
// Joins the parts of one split (any order) into the whole analysis. Refuses, in one line naming the file:
// a malformed part, parts of another squint than `squint` (merging re-serialises, so it must be the same
// build), another model, other options, another split, a part given twice, a missing part, a tensor in two
// parts or in none.
Analysis merge_analysis_parts(const std::vector<PartFile>& parts, const std::string& squint);

}  // namespace squint

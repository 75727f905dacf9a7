#pragma once
// Conversion of a float checkpoint + plan into an mlx-lm model (formats.md A.2-A.5): which tensors the
// output holds (module paths, packed/scales/biases, expert stacks), config.json's "quantization" block,
// the shard layout, and the per-tensor quantize step. No I/O of its own: bytes go to a sink, so native/
// writes files and the browser could write blobs.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "plan/plan.h"
#include "quant/affine.h"
#include "util/parallel.h"

namespace squint {

constexpr uint64_t kMlxMaxShardBytes = 5ull << 30;  // mlx-lm's MAX_FILE_SIZE_GB = 5

// "P.weight" -> "P"; other names unchanged.
std::string module_path(const std::string& weight_name);

// Separately stored MoE experts ("X.experts.E.proj.weight") and the stacked name MLX's switch layers load
// ("X.switch_mlp.proj'.weight", with Mixtral's w1/w2/w3 renamed gate_proj/down_proj/up_proj when X ends in
// "block_sparse_moe", as mlx-lm's mixtral.py sanitize() does).
struct ExpertName {
  std::string stacked;  // stacked weight name
  int expert = -1;
};
std::optional<ExpertName> expert_stack_name(const std::string& name);
// Inverse: the per-expert name for expert e of a stacked weight (for dequantize / gate).
std::optional<std::string> unstacked_expert_name(const std::string& stacked_name, int expert);

enum class UnitKind { Copy, Cast, Quantize };

// One module's worth of output: one source tensor, or the experts of one stack (rows concatenated).
struct ConvertUnit {
  std::string name;                        // output weight name (P.weight, or the tensor's name)
  std::vector<const TensorInfo*> sources;  // > 1: an expert stack, in expert order
  UnitKind kind = UnitKind::Copy;
  QConfig config;                          // kind == Quantize
  DType out_dtype = DType::F32;            // kept tensor dtype, or scales/biases dtype
  std::vector<TensorSpec> outputs;         // weight[, scales, biases], in file order
  uint64_t params = 0;                     // logical parameters
  uint64_t out_bytes() const;
  uint64_t src_bytes() const;
};

struct ConvertLayout {
  std::vector<ConvertUnit> units;
  std::vector<std::string> shard_names;
  std::vector<std::vector<std::size_t>> shards;  // unit indices per shard
  nlohmann::json config;                         // output config.json
  nlohmann::json index;                          // model.safetensors.index.json
  uint64_t total_bytes = 0, total_params = 0;
  std::size_t quantized_modules = 0;
  QConfig global;                                // the most common choice
};

// Validates the plan against the checkpoint (fingerprint, tensor names, valid configs, one config per
// expert stack) and lays out the output. Throws squint::Error naming the tensor.
ConvertLayout plan_conversion(const Checkpoint& ck, const Plan& plan, uint64_t max_shard_bytes = kMlxMaxShardBytes);

// The quantization block for a set of units (exposed for tests).
nlohmann::json quantization_block(const std::vector<ConvertUnit>& units, QConfig* global_out = nullptr);

using ByteSink = std::function<void(const uint8_t*, std::size_t)>;

// Produces unit u's output tensors, in u.outputs order, through `sink` (called from the caller's thread).
// Rows are quantized in fixed chunks spread over `pf` (results do not depend on the thread count);
// memory is bounded by a batch of rows plus the unit's scales/biases. `progress` gets source bytes done.
void write_unit(const Checkpoint& ck, const ConvertUnit& u, const ParallelFor& pf, const ByteSink& sink,
                const std::function<void(uint64_t)>& progress = {});

}  // namespace squint

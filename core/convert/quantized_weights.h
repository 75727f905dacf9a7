#pragma once
// A plan applied in memory: the weights `squint quantize` would write, as `eval` would read them back
// (quantized tensors dequantized from codes and scales/biases rounded to the output dtype; kept F32
// tensors cast to the output dtype), without writing a file. The quality lab evaluates many plans this
// way; a test holds it bit-identical to the written MLX model.
#include <set>
#include <string>

#include "analysis/importance.h"
#include "io/checkpoint.h"
#include "model/model.h"
#include "plan/plan.h"
#include "util/parallel.h"

namespace squint {

// Validates the plan against the checkpoint first (as quantize does: fingerprint, names, valid configs, and for
// a GGUF plan made with an imatrix, that `imatrix` is that one: its GGUF types are quantized with it).
// The returned source reads from `ck` and `imatrix` and keeps a copy of the plan; both must outlive it.
WeightSource quantized_weights(const Checkpoint& ck, const Plan& plan, const ParallelFor& pf = serial(),
                               const ModelImatrix* imatrix = nullptr);
// The tensors whose values quantized_weights() changes (quantized, or kept but cast to another dtype): every
// other tensor reads as float_weights() gives it, so a candidate's model can share it with the float model.
std::set<std::string> plan_changed_tensors(const Checkpoint& ck, const Plan& plan);
// The checkpoint's own float weights (the reference model of the lab and of measured selection).
WeightSource float_weights(const Checkpoint& ck);

}  // namespace squint

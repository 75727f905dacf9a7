#pragma once
// The weights of an opened float or MLX-quantized model (io/mlx_model.h) by HF name, dequantized; a
// separately named expert ("…experts.E.proj.weight") is also found as its slice of an MLX switch_mlp stack.
#include <set>
#include <string>
#include <vector>

#include "io/mlx_model.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "util/parallel.h"

namespace squint {

// `read` (optional, must outlive the source): the logical tensors handed out are added to it (an expert by
// its stack's name).
WeightSource weights_from(const MlxModel& m, std::set<std::string>* read = nullptr);

// The model's F16/BF16 weight matrices (an expert also as its slice of a stack) as StoredLinears, kept in their
// stored precision (model/stored_linear.h); nullptr for the rest (F32 weights, whose float32 copy is their
// stored size, and MLX-quantized ones), which the loader then reads through weights_from(). `read` as there.
LinearSource stored_linears_from(const MlxModel& m, std::set<std::string>* read, const ParallelFor& pf);

// Refuses, with one line naming a tensor, a model whose checkpoint holds weights its family's forward pass
// did not read (`read`, after loading it): a checkpoint of another architecture under a model_type squint
// runs would otherwise run without part of itself (what a Gemma 3 run as a Llama did). Not counted:
// rotary_emb.inv_freq buffers, tensors outside the text model (a wrapper's vision tower), the LM head of a
// tied model (HF ignores it too).
void check_all_weights_read(const MlxModel& m, const std::set<std::string>& read, const ModelHparams& h);
// The rule itself: the first of `names` that counts and was not read, or "".
std::string first_unread_weight(const std::vector<std::string>& names, const std::set<std::string>& read,
                                const ModelHparams& h);

}  // namespace squint

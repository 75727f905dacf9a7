#pragma once
// A mixture-of-experts checkpoint against what its config.json says it holds, before any verb relies on
// either: analysis (every face: model/analysis_run), the MLX and GGUF writers and evaluation would otherwise
// each notice a different symptom late (a stack one expert short, a router that reads as the wrong matrix)
// or none at all (an expert the config does not count is silently left out).
#include <optional>

#include "io/checkpoint.h"
#include "model/hparams.h"

namespace squint {

// For a checkpoint whose config.json names a registered family: its hyperparameters, after checking, when the
// model has experts, that every tensor the family expects is present with its shape (the lm_head of an untied
// model excepted: loaders fall back to the embedding) and that no tensor is an expert the config does not count.
// One-line errors name the checkpoint and the tensor. nullopt when config.json names no registered family.
std::optional<ModelHparams> check_family_tensors(const Checkpoint& ck);

}  // namespace squint

#pragma once
// `squint imatrix`: llama.cpp's importance matrix from squint's forward pass. The statistic is the one
// calibration collects (Σ x_j² of each linear's input, eval/calibrate.h), stored per weight under the name
// llama.cpp gives the GGUF tensor, as llama-imatrix stores it: counts = tokens seen, chunk size = window
// length, chunk count = tokens / chunk size. As llama-imatrix does by default, only the layers' weights are
// collected (blk.*); output.weight with `process_output`, token_embd never (it is a lookup, not a product).
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"
#include "io/checkpoint.h"
#include "io/imatrix.h"

namespace squint {

struct ImatrixCollectOptions {
  bool process_output = false;        // also collect output.weight (llama-imatrix --process-output)
  std::vector<std::string> datasets;  // imatrix.datasets (llama-imatrix records the text file as given)
  int32_t chunk_size = 0;             // tokens per window
};

// One entry per 2-D linear weight of the checkpoint that has an input site in the moments.
// MoE: a per-expert entry (n_mat = experts, counts = tokens routed to each) needs per-expert moments from the
// MoE forward pass; until InputMoments carries them, expert weights are refused here with one line (the Imatrix
// type and both file formats already hold n_mat > 1).
Imatrix imatrix_from_moments(const InputMoments& m, const Checkpoint& ck, const ImatrixCollectOptions& o);

}  // namespace squint

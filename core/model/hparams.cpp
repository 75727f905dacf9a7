#include "model/hparams.h"

namespace squint {

std::vector<KvLayer> kv_layout(const ModelHparams& h) {
  std::vector<KvLayer> out;
  for (int l = 0; l < h.layers; ++l)
    out.push_back({h.kv_heads, h.head_dim, h.head_dim, h.sliding(l) ? h.sliding_window : 0});
  return out;
}

}  // namespace squint

#include "model/families/common.h"

namespace squint::families {

std::string layer_prefix(int layer) { return "model.layers." + std::to_string(layer) + "."; }

AttnWeights load_attention(WeightLoader& w, const ModelHparams& h, const std::string& p, float norm_add) {
  const int64_t H = h.hidden, hd = h.head_dim, Q = static_cast<int64_t>(h.heads) * hd, KV = static_cast<int64_t>(h.kv_heads) * hd;
  AttnWeights a;
  a.q = w.matrix(p + "self_attn.q_proj.weight", Q, H);
  a.k = w.matrix(p + "self_attn.k_proj.weight", KV, H);
  a.v = w.matrix(p + "self_attn.v_proj.weight", KV, H);
  a.o = w.matrix(p + "self_attn.o_proj.weight", H, Q);
  a.bq = w.vector(p + "self_attn.q_proj.bias", Q, h.qkv_bias);
  a.bk = w.vector(p + "self_attn.k_proj.bias", KV, h.qkv_bias);
  a.bv = w.vector(p + "self_attn.v_proj.bias", KV, h.qkv_bias);
  a.q_norm = w.vector(p + "self_attn.q_norm.weight", hd, false, norm_add);
  a.k_norm = w.vector(p + "self_attn.k_norm.weight", hd, false, norm_add);
  return a;
}

AttnWeights load_fused_attention(WeightLoader& w, const ModelHparams& h, const std::string& p) {
  const int64_t H = h.hidden, hd = h.head_dim, Q = static_cast<int64_t>(h.heads) * hd,
                KV = static_cast<int64_t>(h.kv_heads) * hd;
  AttnWeights a;
  a.qkv = w.matrix(p + "self_attn.qkv_proj.weight", Q + 2 * KV, H);
  a.o = w.matrix(p + "self_attn.o_proj.weight", H, Q);
  return a;
}

MlpWeights load_mlp(WeightLoader& w, const ModelHparams& h, const std::string& p, int width, const char* gate, const char* up,
                    const char* down) {
  MlpWeights m;
  m.gate = w.matrix(p + gate + ".weight", width, h.hidden);
  m.up = w.matrix(p + up + ".weight", width, h.hidden);
  m.down = w.matrix(p + down + ".weight", h.hidden, width);
  return m;
}

}  // namespace squint::families

namespace squint::families {

void attention_tensors(const ModelHparams& h, const std::string& p, bool biases, bool qk_norm, std::vector<TensorShape>& out) {
  const int64_t H = h.hidden, hd = h.head_dim, Q = static_cast<int64_t>(h.heads) * hd, KV = static_cast<int64_t>(h.kv_heads) * hd;
  out.push_back({p + "self_attn.q_proj.weight", {Q, H}});
  out.push_back({p + "self_attn.k_proj.weight", {KV, H}});
  out.push_back({p + "self_attn.v_proj.weight", {KV, H}});
  out.push_back({p + "self_attn.o_proj.weight", {H, Q}});
  if (biases) {
    out.push_back({p + "self_attn.q_proj.bias", {Q}});
    out.push_back({p + "self_attn.k_proj.bias", {KV}});
    out.push_back({p + "self_attn.v_proj.bias", {KV}});
  }
  if (qk_norm) {
    out.push_back({p + "self_attn.q_norm.weight", {hd}});
    out.push_back({p + "self_attn.k_norm.weight", {hd}});
  }
}

void mlp_tensors(const ModelHparams& h, const std::string& p, int width, std::vector<TensorShape>& out, const char* gate,
                 const char* up, const char* down) {
  out.push_back({p + gate + ".weight", {width, h.hidden}});
  out.push_back({p + up + ".weight", {width, h.hidden}});
  out.push_back({p + down + ".weight", {h.hidden, width}});
}

ModelWeights load_prenorm_decoder(WeightLoader& w, const ModelHparams& h, const FfnLoader& ffn, const DecoderNames& n) {
  ModelWeights m;
  m.embed = w.matrix(n.model + "embed_tokens.weight", h.vocab, h.hidden);
  m.final_norm = w.vector(n.model + "norm.weight", h.hidden, true, n.norm_add);
  m.lm_head = h.tied ? nullptr : w.optional_matrix(n.head, h.vocab, h.hidden);
  if (!m.lm_head) m.lm_head = m.embed;
  for (int l = 0; l < h.layers; ++l) {
    const std::string p = n.model + "layers." + std::to_string(l) + ".";
    LayerWeights L;
    L.attn = n.fused_qkv ? load_fused_attention(w, h, p) : load_attention(w, h, p, n.norm_add);
    L.attn_norm = w.vector(p + "input_layernorm.weight", h.hidden, true, n.norm_add);
    if (n.sandwich) {
      L.post_attn_norm = w.vector(p + "post_attention_layernorm.weight", h.hidden, true, n.norm_add);
      L.ffn_norm = w.vector(p + "pre_feedforward_layernorm.weight", h.hidden, true, n.norm_add);
      L.post_ffn_norm = w.vector(p + "post_feedforward_layernorm.weight", h.hidden, true, n.norm_add);
    } else {
      L.ffn_norm = w.vector(p + "post_attention_layernorm.weight", h.hidden, true, n.norm_add);
    }
    ffn(l, p, L);
    m.layers.push_back(std::move(L));
  }
  return m;
}

std::vector<TensorShape> prenorm_decoder_tensors(const ModelHparams& h, bool biases, bool qk_norm,
                                                 const FfnTensors& ffn, const DecoderNames& n) {
  std::vector<TensorShape> t;
  t.push_back({n.model + "embed_tokens.weight", {h.vocab, h.hidden}});
  for (int l = 0; l < h.layers; ++l) {
    const std::string p = n.model + "layers." + std::to_string(l) + ".";
    t.push_back({p + "input_layernorm.weight", {h.hidden}});
    if (n.fused_qkv) {
      const int64_t Q = static_cast<int64_t>(h.heads) * h.head_dim, KV = static_cast<int64_t>(h.kv_heads) * h.head_dim;
      t.push_back({p + "self_attn.qkv_proj.weight", {Q + 2 * KV, h.hidden}});
      t.push_back({p + "self_attn.o_proj.weight", {h.hidden, Q}});
    } else {
      attention_tensors(h, p, biases, qk_norm, t);
    }
    t.push_back({p + "post_attention_layernorm.weight", {h.hidden}});
    if (n.sandwich) t.push_back({p + "pre_feedforward_layernorm.weight", {h.hidden}});
    ffn(l, p, t);
    if (n.sandwich) t.push_back({p + "post_feedforward_layernorm.weight", {h.hidden}});
  }
  t.push_back({n.model + "norm.weight", {h.hidden}});
  if (!h.tied) t.push_back({n.head, {h.vocab, h.hidden}});
  return t;
}

}  // namespace squint::families

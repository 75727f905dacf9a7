// Gemma 2 / Gemma 3 in the family registry: config.json read as HF reads it (the configuration classes'
// defaults for absent keys, layer_types or the older patterns, RoPE per kind of layer, transformers' newer
// rope_parameters), refusals of variants squint does not run, the loader reading every tensor the family lists
// with norms as 1 + w, the multimodal wrapper's two name layouts giving the text model's logits, and a Gemma
// checkpoint that can no longer run as a Llama. Agreement with llama.cpp itself: tests/gguf/families.test.mjs.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>

#include "model/family.h"
#include "model/mlx_source.h"
#include "model/model.h"
#include "synth/synth.h"
#include "util/error.h"

using namespace squint;
using nlohmann::json;

namespace {

// A source serving `tensors` under their names (or renamed by `rename`) with synth's values, recording what
// was read. Norms of `norm_value` when set (to see the 1 + w).
struct FakeSource {
  std::map<std::string, std::vector<int64_t>> shapes;
  std::map<std::string, std::string> from;  // served name -> name whose values it gets
  std::set<std::string> read;
  float norm_value = NAN;
  WeightSource source() {
    return [this](const std::string& n, std::vector<int64_t>* shape, std::vector<float>* data) {
      auto it = shapes.find(n);
      if (it == shapes.end()) return false;
      *shape = it->second;
      uint64_t k = 1;
      for (auto d : it->second) k *= static_cast<uint64_t>(d);
      data->resize(k);
      SynthSpec s;
      s.dtype = DType::F32;
      synth_fill(s, TensorSpec{from[n], DType::F32, it->second}, 0, k, reinterpret_cast<uint8_t*>(data->data()));
      if (it->second.size() == 1 && !std::isnan(norm_value)) std::fill(data->begin(), data->end(), norm_value);
      read.insert(n);
      return true;
    };
  }
  std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (const auto& [n, s] : shapes) v.push_back(n);
    return v;
  }
};

FakeSource source_for(const Family& f, const ModelHparams& h, const std::string& strip = "",
                      const std::string& add = "") {
  FakeSource s;
  for (const auto& t : f.tensors(h)) {
    std::string n = t.name;
    if (!strip.empty() && n.rfind(strip, 0) == 0) n = add + n.substr(strip.size());
    s.shapes[n] = t.shape;
    s.from[n] = t.name;
  }
  return s;
}

json preset_config(const std::string& name) { return synth_config(synth_preset(name)); }

}  // namespace

TEST_CASE("Gemma configs: HF defaults, sliding layers, RoPE per kind of layer, scales", "[model][gemma]") {
  const ModelHparams g2 = hparams_from_config(preset_config("gemma2"), "c");
  CHECK(g2.family == "gemma2");
  CHECK(g2.act == Activation::GeluTanh);
  CHECK(g2.embed_scale == std::sqrt(128.0f));
  CHECK(g2.attn_scale == Approx(1.0 / std::sqrt(32.0)));
  CHECK(g2.attn_softcap == 10.0f);
  CHECK(g2.final_softcap == 5.0f);
  CHECK(g2.sliding_window == 16);
  CHECK(g2.layer_sliding == std::vector<bool>{true, false, true, false});  // even layers slide (HF's layer_types)
  CHECK(g2.rope_local.theta == g2.rope.theta);
  CHECK(g2.tied);

  const ModelHparams g3 = hparams_from_config(preset_config("gemma3"), "c");
  CHECK(g3.family == "gemma3");
  CHECK(g3.model_type == "gemma3_text");
  CHECK(g3.head_dim == 48);
  CHECK(g3.layer_sliding == std::vector<bool>{true, true, false, true});
  CHECK(g3.rope.theta == 1e6);
  CHECK(g3.rope.type == "linear");
  CHECK(g3.rope.factor == 8.0);
  CHECK(g3.rope_local.theta == 1e4);
  CHECK(g3.rope_local.type == "default");  // the sliding layers' RoPE is not scaled
  CHECK(g3.attn_softcap == 0.0f);
  CHECK(g3.final_softcap == 0.0f);

  // The multimodal wrapper as google/gemma-3-4b-it publishes it: text_config lists what differs from
  // Gemma3TextConfig's defaults; eos is a list at the top level.
  const json wrapper = {{"model_type", "gemma3"},
                        {"architectures", {"Gemma3ForConditionalGeneration"}},
                        {"eos_token_id", {1, 106}},
                        {"text_config",
                         {{"hidden_size", 2560},
                          {"intermediate_size", 10240},
                          {"model_type", "gemma3_text"},
                          {"num_hidden_layers", 34},
                          {"rope_scaling", {{"factor", 8.0}, {"rope_type", "linear"}}},
                          {"sliding_window", 1024}}},
                        {"vision_config", {{"model_type", "siglip_vision_model"}}}};
  const ModelHparams w = hparams_from_config(wrapper, "c");
  CHECK(w.family == "gemma3");
  CHECK(w.model_type == "gemma3");
  CHECK(w.heads == 8);
  CHECK(w.kv_heads == 4);
  CHECK(w.head_dim == 256);
  CHECK(w.vocab == 262208);
  CHECK(w.eps == Approx(1e-6));
  CHECK(w.attn_scale == Approx(1.0 / 16));
  CHECK(w.eos == 1);
  CHECK(w.bos == 2);
  CHECK(w.tied);
  CHECK(w.sliding_window == 1024);
  CHECK(w.sliding(0));
  CHECK(!w.sliding(5));  // sliding_window_pattern 6: every sixth layer is global
  CHECK(!w.sliding(11));
  CHECK(w.sliding(12));
  CHECK(w.rope.theta == 1e6);
  CHECK(w.rope.type == "linear");
  CHECK(w.rope_local.theta == 1e4);

  // transformers' newer form: layer_types and rope_parameters per kind of layer.
  json v5 = preset_config("gemma3");
  v5.erase("rope_scaling");
  v5.erase("rope_theta");
  v5.erase("rope_local_base_freq");
  v5["layer_types"] = {"full_attention", "sliding_attention", "sliding_attention", "full_attention"};
  v5["rope_parameters"] = {{"full_attention", {{"rope_type", "linear"}, {"factor", 4.0}, {"rope_theta", 500000.0}}},
                           {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 20000.0}}}};
  const ModelHparams n = hparams_from_config(v5, "c");
  CHECK(n.layer_sliding == std::vector<bool>{false, true, true, false});
  CHECK(n.rope.theta == 500000.0);
  CHECK(n.rope.factor == 4.0);
  CHECK(n.rope_local.theta == 20000.0);
  // No sliding_window: no layer slides.
  json none = preset_config("gemma2");
  none["sliding_window"] = nullptr;
  CHECK(hparams_from_config(none, "c").layer_sliding == std::vector<bool>(4, false));
}

TEST_CASE("Gemma variants squint does not run are refused with one line naming them", "[model][gemma][hardening]") {
  auto refused = [](json cfg, const std::string& what) {
    INFO(cfg.dump());
    CHECK_THROWS_WITH(hparams_from_config(cfg, "cfg.json"), Catch::Contains(what));
  };
  refused({{"model_type", "gemma3n"}, {"text_config", {{"model_type", "gemma3n_text"}}}},
          "model_type 'gemma3n_text' is not supported");
  refused({{"model_type", "gemma"}}, "model_type 'gemma' is not supported");
  json c = preset_config("gemma2");
  c["hidden_activation"] = "gelu";
  refused(c, "hidden_activation 'gelu' is not supported");
  c = preset_config("gemma3");
  c["use_bidirectional_attention"] = true;
  refused(c, "use_bidirectional_attention");
  c = preset_config("gemma3");
  c["layer_types"] = {"sliding_attention", "full_attention"};
  refused(c, "layer_types must list one type per layer (4)");
  c["layer_types"] = {"sliding_attention", "chunked_attention", "full_attention", "full_attention"};
  refused(c, "has 'chunked_attention'");
  c = preset_config("gemma3");
  c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  refused(c, "rope type 'yarn' is not supported");
  c = preset_config("gemma2");
  c["query_pre_attn_scalar"] = 0;
  refused(c, "query_pre_attn_scalar must be positive");
  c = preset_config("gemma2");
  c["final_logit_softcapping"] = -1;
  refused(c, "final_logit_softcapping must be a positive number or null");
  // PaliGemma 2 wraps a gemma2 text model: not the wrapper squint runs.
  refused({{"model_type", "paligemma"}, {"text_config", preset_config("gemma2")}},
          "a 'paligemma' model around a gemma2 text model");
}

TEST_CASE("Gemma loader: reads every tensor its family lists, norms as 1 + w, wrapper layouts give the text model",
          "[model][gemma]") {
  for (const char* p : {"gemma2", "gemma3", "gemma3-mm"}) {
    INFO(p);
    const json cfg = preset_config(p);
    const Family& f = family_for_config(cfg, "c");
    const ModelHparams h = f.from_config(cfg, "c");
    FakeSource s = source_for(f, h);
    s.norm_value = 0.0f;  // stored w = 0: RMSNorm by 1
    const Model m(h, s.source());
    CHECK(first_unread_weight(s.names(), s.read, h).empty());
    CHECK(m.weights().final_norm.isOnes());
    CHECK(m.weights().layers[1].post_attn_norm.isOnes());
    CHECK(m.weights().layers[1].post_ffn_norm.isOnes());
    if (h.family == "gemma3") CHECK(m.weights().layers[0].attn.k_norm.isOnes());
  }
  // The text model, and the same weights inside the wrapper under both layouts: identical logits.
  const json text_cfg = preset_config("gemma3"), wrap_cfg = preset_config("gemma3-mm");
  const Family& f = family_for_config(text_cfg, "c");
  const ModelHparams ht = f.from_config(text_cfg, "c"), hw = f.from_config(wrap_cfg, "c");
  CHECK(ht.layer_sliding == hw.layer_sliding);
  FakeSource st = source_for(f, ht);
  const std::vector<int> toks = {2, 17, 300, 5, 5, 411, 9, 63, 100, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  const RowMat want = Model(ht, st.source()).logits(toks);
  for (const std::string prefix : {"language_model.model.", "model.language_model."}) {
    INFO(prefix);
    FakeSource sw = source_for(f, ht, "model.", prefix);
    const RowMat got = Model(hw, sw.source()).logits(toks);
    CHECK((got - want).cwiseAbs().maxCoeff() == 0.0f);
  }
}

TEST_CASE("a Gemma checkpoint cannot run as a Llama (the silent wrong answer of wave 2)", "[model][gemma][hardening]") {
  // gemma3_text is the gemma3 family, never the llama one.
  CHECK(family_for_config(preset_config("gemma3"), "c").name() == "gemma3");
  CHECK(family_for_config(preset_config("gemma3-mm"), "c").name() == "gemma3");
  CHECK(family_for_config(preset_config("gemma2"), "c").name() == "gemma2");
  // The same checkpoint relabelled as a Llama loads through the Llama loader (it finds every tensor it asks
  // for), but leaves Gemma's feed-forward norms unread: the guard every verb that loads a model applies
  // refuses it, where the old code printed a perplexity.
  const json g3 = preset_config("gemma3");
  const Family& gemma = family_for_config(g3, "c");
  json as_llama = g3;
  as_llama["model_type"] = "llama";
  const ModelHparams hl = hparams_from_config(as_llama, "c");
  REQUIRE(hl.family == "llama");
  FakeSource s = source_for(gemma, gemma.from_config(g3, "c"));
  const Model m(hl, s.source());
  CHECK_THAT(first_unread_weight(s.names(), s.read, hl), Catch::Contains("feedforward_layernorm"));
}

TEST_CASE("Gemma forward: sliding layers see only the last sliding_window positions", "[model][gemma]") {
  json cfg = preset_config("gemma3");
  const Family& f = family_for_config(cfg, "c");
  const ModelHparams h = f.from_config(cfg, "c");
  std::vector<int> toks;
  for (int i = 0; i < 40; ++i) toks.push_back((i * 37 + 11) % 512);
  FakeSource s = source_for(f, h);
  const RowMat windowed = Model(h, s.source()).logits(toks);
  ModelHparams wide = h;
  wide.sliding_window = 1000;  // longer than the sequence: every layer sees everything
  const RowMat global = Model(wide, s.source()).logits(toks);
  // Positions before the window fills agree; later ones differ.
  CHECK((windowed.topRows(16) - global.topRows(16)).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK((windowed.bottomRows(8) - global.bottomRows(8)).cwiseAbs().maxCoeff() > 1e-3f);
}

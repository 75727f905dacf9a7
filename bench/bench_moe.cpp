// The MoE measurements of issue 22, on synthetic models (random weights: they show what the mechanisms do,
// not how a trained model's quality responds).
// (1) Router protection: on a Mixtral-shaped and a Qwen3-MoE-shaped model, the fraction of routing decisions
//     (token x MoE layer) whose set of top-k experts differs from the float model's, for squint's default plan
//     at a budget (routers kept: prior inf, plan/priors.cpp) and for the same plan with every router at 4-bit
//     g64 (set by hand: --prior can lower a router's prior but the planner never gives it fewer than 8 bits),
//     with each model's mean KL from the float model on the same windows.
// (2) Speed: forward tokens/s (one thread, one window at a time, medians of interleaved runs) of a
//     Mixtral-shaped and a Qwen3-MoE-shaped model against dense models of the same *active* parameter count and
//     of the same *total* count, in the same run: only the routed experts run, so an MoE should cost about its
//     active parameters.
// `bench_moe TEXT TOKENIZER_DIR [RUNS]` (e.g. ../shared/data/tinystories/eval.txt ../shared/models/stories260K:
// the synthetic models have its 512-id vocabulary).
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "analysis/analysis.h"
#include "bench_util.h"
#include "convert/quantized_weights.h"
#include "eval/evaluate.h"
#include "eval_model.h"
#include "io/byte_source.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "model/family.h"
#include "parallel.h"
#include "plan/options.h"
#include "plan/planner.h"
#include "synth/synth.h"

using namespace squint;
using squint::bench::median;
using squint::bench::now;

namespace {

SynthSpec mixtral_shaped(int hidden, int intermediate, int experts, int layers) {
  SynthSpec s = synth_preset("mixtral");
  s.hidden = hidden;
  s.intermediate = intermediate;
  s.experts = experts;
  s.layers = layers;
  s.heads = hidden / 64;
  s.kv_heads = std::max(1, s.heads / 4);
  return s;
}

// Qwen3-30B-A3B's proportions scaled down: head_dim 128 (q wider than hidden), experts of width 0.375 hidden.
SynthSpec qwen3_shaped(int hidden, int experts, int used, int layers) {
  SynthSpec s = synth_preset("qwen3-moe");
  s.hidden = hidden;
  s.layers = layers;
  s.heads = 8;
  s.kv_heads = 2;
  s.intermediate = hidden * 3;
  s.extra["head_dim"] = 128;
  s.extra["num_experts"] = experts;
  s.extra["num_experts_per_tok"] = used;
  s.extra["moe_intermediate_size"] = hidden * 3 / 8;
  return s;
}

// Per window: the fraction of routing decisions that differ from the float model's, and the mean KL.
struct PerWindow {
  std::vector<double> changed, kl;
};

// The mean over windows of b − a with a 95 % paired-bootstrap interval (2,000 resamples of the windows).
std::string paired_delta(const std::vector<double>& a, const std::vector<double>& b, double scale, const char* unit) {
  const std::size_t n = a.size();
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = scale * (b[i] - a[i]);
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  std::mt19937_64 g(42);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::vector<double> means, r(n);
  for (int k = 0; k < 2000; ++k) {
    for (auto& x : r) x = d[pick(g)];
    means.push_back(mean(r));
  }
  std::sort(means.begin(), means.end());
  return fmt::format("{:+.3g}{} [{:+.3g}, {:+.3g}]", mean(d), unit, means[50], means[1949]);
}

int routing_differences(const std::vector<std::vector<std::vector<int>>>& a,
                        const std::vector<std::vector<std::vector<int>>>& b, int* decisions) {
  int diff = 0;
  for (std::size_t l = 0; l < a.size(); ++l)
    for (std::size_t t = 0; t < a[l].size(); ++t) {
      ++*decisions;
      diff += std::set<int>(a[l][t].begin(), a[l][t].end()) != std::set<int>(b[l][t].begin(), b[l][t].end());
    }
  return diff;
}

void router_protection(const std::string& label, const SynthSpec& s, const EvalWindows& w, const ParallelFor& pool) {
  const Checkpoint ck = synth_in_memory(s);
  AnalyzeOptions ao;
  ao.parallel = pool;
  const Analysis a = analyze_checkpoint(ck, ao);
  const ModelHparams h = hparams_from_config(ck.config.raw, label);
  const Model fl(h, float_weights(ck));
  const EvalBase base(fl, w, pool);
  std::vector<std::vector<std::vector<std::vector<int>>>> ref;
  for (std::size_t k = 0; k < w.chosen.size(); ++k) ref.push_back(fl.routing(w.tokens(k)));
  std::set<std::string> routers;
  for (const auto& t : a.tensors)
    if (t.role.role == Role::Router) routers.insert(t.name);
  auto with_routers = [&](Plan p, int bits) {
    for (auto& t : p.tensors)
      if (routers.count(t.name)) {
        t.bits = bits;
        t.group_size = 64;
      }
    return p;
  };
  // One row; with `vs`, also the paired difference from that row's model (same windows).
  auto row = [&](const std::string& size, const char* name, const Plan& plan, const PerWindow* vs) {
    const Model m(h, quantized_weights(ck, plan, pool));
    PerWindow pw;
    int diff = 0, decisions = 0;
    for (std::size_t k = 0; k < w.chosen.size(); ++k) {
      int dk = 0;
      const int d = routing_differences(ref[k], m.routing(w.tokens(k)), &dk);
      diff += d;
      decisions += dk;
      pw.changed.push_back(static_cast<double>(d) / dk);
    }
    const EvalResult r = evaluate(m, w, pool, {}, &base);
    const std::size_t per = w.seq_len - 1;
    for (std::size_t k = 0; k < w.chosen.size(); ++k) {
      double s = 0;
      for (std::size_t i = 0; i < per; ++i) s += r.token_kl[k * per + i];
      pw.kl.push_back(s / static_cast<double>(per));
    }
    fmt::print("| {} | {} | {} | {:.2f} % ({} of {}) | {:.4f} | {:.1f} % | {} | {} |\n", label, size, name,
               100.0 * diff / decisions, diff, decisions, r.kl.mean, 100.0 * r.kl.top1,
               vs ? paired_delta(vs->changed, pw.changed, 100.0, " pp") : "",
               vs ? paired_delta(vs->kl, pw.kl, 1.0, "") : "");
    std::fflush(stdout);
    return pw;
  };
  PlanSettings st;
  for (double bpw : {5.0, 4.5, 4.0}) {
    st.bpw = bpw;
    const Plan kept = make_plan(a, plan_options_from(st, true));
    const PerWindow k = row(fmt::format("{:.1f} bpw", bpw), "kept (default)", kept, nullptr);
    row(fmt::format("{:.1f} bpw", bpw), "4-bit g64", with_routers(kept, 4), &k);
  }
  // The router's own effect: every other tensor kept (float), only the routers quantized.
  st.bpw = 5.0;
  Plan none = make_plan(a, plan_options_from(st, true));
  for (auto& t : none.tensors) {
    t.bits = kKeepBits;
    t.group_size = 0;
  }
  const PerWindow r8 = row("routers only", "8-bit g64", with_routers(none, 8), nullptr);
  row("routers only", "4-bit g64", with_routers(none, 4), &r8);
}

// A model of h with normal random weights (norms 1, matrices std 1/sqrt(in)), generated on request.
Model random_model(const ModelHparams& h, uint64_t seed) {
  const Family& f = family_named(h.family);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& t : f.tensors(h)) shapes[t.name] = t.shape;
  WeightSource src = [&shapes, seed](const std::string& n, std::vector<int64_t>* shape, std::vector<float>* data) {
    auto it = shapes.find(n);
    if (it == shapes.end()) return false;
    *shape = it->second;
    int64_t count = 1;
    for (auto d : it->second) count *= d;
    std::mt19937_64 g(seed ^ std::hash<std::string>{}(n));
    const bool vec = it->second.size() == 1;
    std::normal_distribution<float> nd(vec ? 1.0f : 0.0f,
                                       vec ? 0.05f : 1.0f / std::sqrt(static_cast<float>(it->second.back())));
    data->resize(static_cast<std::size_t>(count));
    for (auto& x : *data) x = nd(g);
    return true;
  };
  return Model(h, src);
}

uint64_t params_of(const ModelHparams& h, bool active) {
  uint64_t n = 0;
  for (const auto& t : family_named(h.family).tensors(h)) {
    uint64_t k = 1;
    for (auto d : t.shape) k *= static_cast<uint64_t>(d);
    if (active && t.name.find(".experts.") != std::string::npos) {
      // One expert's share of the routed experts, times the experts each token uses.
      k = k * static_cast<uint64_t>(h.experts_used) / static_cast<uint64_t>(h.experts);
    }
    if (t.name == "model.embed_tokens.weight") continue;  // a lookup, not a product
    n += k;
  }
  return n;
}

void speed(const std::string& label, const nlohmann::json& moe_cfg, const std::string& dense_type, int runs) {
  const ModelHparams hm = hparams_from_config(moe_cfg, label);
  nlohmann::json active = moe_cfg, total = moe_cfg;
  for (nlohmann::json* j : {&active, &total}) {
    (*j)["model_type"] = dense_type;
    for (const char* k : {"num_local_experts", "num_experts", "num_experts_per_tok", "moe_intermediate_size",
                          "norm_topk_prob", "decoder_sparse_step", "mlp_only_layers"})
      j->erase(k);
  }
  active["intermediate_size"] = hm.experts_used * hm.expert_width();
  total["intermediate_size"] = hm.experts * hm.expert_width();
  const ModelHparams ha = hparams_from_config(active, label), ht = hparams_from_config(total, label);
  const Model moe = random_model(hm, 1), dense_active = random_model(ha, 2), dense_total = random_model(ht, 3);
  std::mt19937 g(7);
  std::vector<int> toks(256);
  for (auto& t : toks) t = static_cast<int>(g() % static_cast<unsigned>(hm.vocab));
  std::vector<double> tm, ta, tt;
  for (int r = 0; r < runs; ++r)
    for (auto [m, v] :
         {std::pair<const Model*, std::vector<double>*>{&moe, &tm}, {&dense_active, &ta}, {&dense_total, &tt}}) {
      const double t0 = now();
      volatile float sink = m->logits(toks)(0, 0);
      (void)sink;
      v->push_back(static_cast<double>(toks.size()) / (now() - t0));
    }
  const double m = median(tm), a = median(ta), t = median(tt);
  fmt::print("| {} | {:.1f} M / {:.1f} M | {:.0f} | {:.0f} ({:.1f} M) | {:.0f} ({:.1f} M) | {:.2f}x | {:.2f}x |\n",
             label, params_of(hm, true) / 1e6, params_of(hm, false) / 1e6, m, a, params_of(ha, false) / 1e6, t,
             params_of(ht, false) / 1e6, m / a, m / t);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: bench_moe TEXT TOKENIZER_DIR [RUNS]\n");
    return 2;
  }
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  const ParallelFor pool = make_thread_pool(default_threads());
  const EvalWindows w = load_eval_windows(argv[1], argv[2], 128, 16, 42);

  fmt::print(
      "Router protection ({} windows of {} tokens; set of top-k experts vs the float model's, per token and MoE "
      "layer; KL from the float model)\n\n",
      w.chosen.size(), w.seq_len);
  fmt::print(
      "| model | size | routers | routing decisions changed | mean KL | top-1 agreement | Δ changed vs the row above "
      "(95 % paired bootstrap over windows) | Δ KL |\n|---|---|---|---|---|---|---|---|\n");
  router_protection("Mixtral-shaped (hidden 256, 8 experts top-2, 4 layers)", mixtral_shaped(256, 512, 8, 4), w, pool);
  router_protection("Qwen3-MoE-shaped (hidden 256, 32 experts top-4, head_dim 128, 4 layers)",
                    qwen3_shaped(256, 32, 4, 4), w, pool);

  fmt::print(
      "\nForward speed (1 thread, 256-token window, median of {} interleaved runs; params without the "
      "embedding lookup)\n\n",
      runs);
  fmt::print(
      "| model | active / total params | MoE tokens/s | dense, same active | dense, same total | MoE / dense active "
      "| MoE / dense total |\n|---|---|---|---|---|---|---|\n");
  const SynthSpec mx = mixtral_shaped(384, 1344, 8, 4), q3 = qwen3_shaped(512, 64, 8, 4);
  speed("Mixtral-shaped (hidden 384, 8 experts top-2)", synth_config(mx), "llama", runs);
  speed("Qwen3-MoE-shaped (hidden 512, 64 experts top-8)", synth_config(q3), "qwen3", runs);
  return 0;
}

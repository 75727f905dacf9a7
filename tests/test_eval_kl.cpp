// The shared evaluation core (core/eval/evaluate.*): windows and NLL identical to the old `eval`, KL against
// a direct computation from logits, KL of a model against itself, and the in-memory quantized model
// (core/convert/quantized_weights.*) identical to the written MLX model, to the bit.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "analysis/analysis.h"
#include "convert/quantized_weights.h"
#include "eval/evaluate.h"
#include "eval_model.h"
#include "file_source.h"
#include "plan/planner.h"
#include "plan/uniform.h"
#include "quant/affine.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {
EvalWindows few_windows(int samples = 6) { return load_eval_windows(eval_text(), stories(), 64, samples, 7); }
}  // namespace

TEST_CASE("evaluate: per-window NLL equals Model::nll bit for bit", "[eval][kl]") {
  auto m = load_model(stories());
  const EvalWindows w = few_windows();
  REQUIRE(w.chosen.size() == 6);
  const EvalResult r = evaluate(*m, w, serial());
  for (std::size_t k = 0; k < w.chosen.size(); ++k) {
    std::size_t n = 0;
    const double total = m->nll(w.tokens(k), &n);
    CHECK(r.windows[k].index == w.chosen[k]);
    CHECK(r.windows[k].tokens == 63);
    CHECK(r.windows[k].nll == total / static_cast<double>(n));  // exact
  }
  CHECK_FALSE(r.has_kl);
}

TEST_CASE("KL of a model against itself is 0 and top-1 agreement is 1", "[eval][kl]") {
  auto m = load_model(stories());
  const EvalWindows w = few_windows(3);
  EvalBase base(*m, w, serial());
  CHECK(base.cached());
  const EvalResult r = evaluate(*m, w, serial(), {}, &base);
  REQUIRE(r.has_kl);
  CHECK(r.kl.mean == 0.0);
  CHECK(r.kl.max == 0.0);
  CHECK(r.kl.top1 == 1.0);
  CHECK(r.kl.d_median_ppl == 0.0);
  CHECK(r.kl.tokens == 3 * 63);
}

TEST_CASE("KL equals a direct computation from the logits, cached and recomputed base agree", "[eval][kl]") {
  Checkpoint ck = open_model(stories());
  Analysis a = analyze_checkpoint(ck, AnalyzeOptions{});
  const Plan p = uniform_plan(a, {3, 32});
  Model q(load_model_hparams(stories()), quantized_weights(ck, p));
  auto f = load_model(stories());
  const EvalWindows w = few_windows(4);
  EvalBase cached(*f, w, serial());
  EvalBase uncached(*f, w, serial(), {}, 0);
  REQUIRE(cached.cached());
  REQUIRE_FALSE(uncached.cached());
  const EvalResult r = evaluate(q, w, serial(), {}, &cached);
  const EvalResult r2 = evaluate(q, w, serial(), {}, &uncached);
  CHECK(r.token_kl == r2.token_kl);
  // Direct: double-precision log-softmax of both models' logits, Σ p (log p − log q).
  double sum = 0, worst = 0;
  std::size_t agree = 0, n = 0;
  for (std::size_t k = 0; k < w.chosen.size(); ++k) {
    std::vector<int> toks = w.tokens(k);
    toks.pop_back();
    RowMat lp = f->logits(toks), lq = q.logits(toks);
    for (Eigen::Index t = 0; t < lp.rows(); ++t) {
      auto lsm = [](const RowMat& m, Eigen::Index t) {
        Eigen::VectorXd v = m.row(t).transpose().cast<double>();
        const double mx = v.maxCoeff();
        return Eigen::VectorXd((v.array() - mx - std::log((v.array() - mx).exp().sum())).matrix());
      };
      Eigen::VectorXd a1 = lsm(lp, t), b1 = lsm(lq, t);
      const double kl = (a1.array().exp() * (a1 - b1).array()).sum();
      CHECK(r.token_kl[n] == Approx(kl).margin(2e-6));
      worst = std::max(worst, kl);
      Eigen::Index ia, ib;
      a1.maxCoeff(&ia);
      b1.maxCoeff(&ib);
      agree += ia == ib;
      sum += kl;
      ++n;
    }
  }
  REQUIRE(n == r.kl.tokens);
  CHECK(r.kl.mean == Approx(sum / static_cast<double>(n)).margin(1e-6));
  CHECK(r.kl.mean > 1e-3);  // 3-bit quantization really changes the model
  CHECK(r.kl.max == Approx(worst).margin(2e-6));
  CHECK(r.kl.top1 == Approx(static_cast<double>(agree) / static_cast<double>(n)));
  CHECK(r.kl.p99 <= r.kl.max);
  CHECK(r.kl.median <= r.kl.p99);
}

TEST_CASE("in-memory quantized model == the written MLX model, to the bit", "[eval][kl][convert]") {
  TempDir d;
  Checkpoint ck = open_model(stories());
  Analysis a = analyze_checkpoint(ck, AnalyzeOptions{});
  // A mixed plan (several configs, kept F32 tensors cast to float16) and a uniform one.
  PlanOptions o;
  o.budget_bytes = 215000;
  o.budget_spec = "215000";
  const std::vector<Plan> plans = {make_plan(a, o), uniform_plan(a, {4, 64})};
  const EvalWindows w = few_windows(2);
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const std::string pf = d.str("plan" + std::to_string(i) + ".json"), out = d.str("q" + std::to_string(i));
    write_text(pf, serialize_plan(plans[i]));
    REQUIRE(run(cli() + " -q quantize " + stories() + " --plan " + pf + " -o " + out) == 0);
    auto written = load_model(out);
    Model mem(load_model_hparams(stories()), quantized_weights(ck, plans[i]));
    std::vector<int> toks = w.tokens(0);
    RowMat a1 = written->logits(toks), b1 = mem.logits(toks);
    CHECK((a1.array() == b1.array()).all());
    const EvalResult ra = evaluate(*written, w, serial()), rb = evaluate(mem, w, serial());
    for (std::size_t k = 0; k < ra.windows.size(); ++k) CHECK(ra.windows[k].nll == rb.windows[k].nll);
  }
  Plan other = plans[0];
  other.fingerprint = "xxh64:0000000000000000";
  CHECK_THROWS_WITH(quantized_weights(ck, other), Catch::Contains("different model"));
}

TEST_CASE("in-memory quantized GGUF plan == the written GGUF file, to the bit", "[eval][kl][convert][gguf]") {
  // The lab and measured selection quantize GGUF plans in memory; `eval FILE.gguf` reads the written file back
  // (ggml port, Q/K permutation undone, 1-D tensors F32, F32 matrices rounded to float16 before quantizing).
  TempDir d;
  Checkpoint ck = open_model(stories());
  AnalyzeOptions ao;
  ao.format = QFormat::Gguf;
  ao.configs = all_gguf_configs();
  Analysis a = analyze_checkpoint(ck, ao);
  PlanOptions o;
  o.budget_bytes = 250000;
  o.budget_spec = "250000";
  const Plan p = make_plan(a, o);
  std::set<std::string> types;
  for (const auto& t : p.tensors) types.insert(t.keep() ? "keep" : t.type);
  REQUIRE(types.size() >= 3);  // a real mix of ggml types and kept tensors
  const std::string pf = d.str("plan.json"), out = d.str("q.gguf");
  write_text(pf, serialize_plan(p));
  REQUIRE(run(cli() + " -q quantize " + stories() + " --format gguf --plan " + pf + " -o " + out) == 0);
  auto written = load_model(out);
  Model mem(load_model_hparams(stories()), quantized_weights(ck, p));
  const EvalWindows w = few_windows(2);
  RowMat a1 = written->logits(w.tokens(0)), b1 = mem.logits(w.tokens(0));
  CHECK((a1.array() == b1.array()).all());
  auto f = load_model(stories());
  RowMat c1 = f->logits(w.tokens(0));
  CHECK_FALSE((a1.array() == c1.array()).all());  // and it is not the float model
  const EvalResult ra = evaluate(*written, w, serial()), rb = evaluate(mem, w, serial());
  for (std::size_t k = 0; k < ra.windows.size(); ++k) CHECK(ra.windows[k].nll == rb.windows[k].nll);
  Plan other = p;
  other.fingerprint = "xxh64:0000000000000000";
  CHECK_THROWS_WITH(quantized_weights(ck, other), Catch::Contains("different model"));
  Plan bad = p;
  for (auto& t : bad.tensors)
    if (!t.keep()) t.type = "Q4_K";  // rows of 64 (stories260K): no 256-block fits
  CHECK_THROWS_WITH(quantized_weights(ck, bad), Catch::Contains("not a multiple of Q4_K"));
}

TEST_CASE("eval --kl-base: JSON on stdout, self-KL 0, old --json FILE form still written", "[eval][kl][cli]") {
  TempDir d;
  std::string out;
  const std::string base = cli() + " eval " + stories() + " --text " + eval_text() + " --seq-len 64 --samples 3";
  REQUIRE(run(base + " -q --kl-base " + stories() + " --json", &out) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["format"] == "squint.eval");
  CHECK(j["version"] == 1);
  CHECK(j["kl"]["mean"] == 0.0);
  CHECK(j["kl"]["top1_agreement"] == 1.0);
  CHECK(j["windows"].size() == 3);
  CHECK_FALSE(j.contains("tokens_per_second"));
  REQUIRE(run(base + " --json " + d.str("old.json"), &out) == 0);
  CHECK(out.find("deprecated") != std::string::npos);
  auto k = nlohmann::json::parse(read_text_file(d.str("old.json")));
  CHECK(k["median_ppl"] == j["median_ppl"]);
  CHECK(run(base + " --kl-base " + d.str("missing"), &out) == 2);
}

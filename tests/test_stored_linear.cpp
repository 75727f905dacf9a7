// Weights kept in their stored precision (issue 24): StoredLinear against the float32 product of the same
// values, its thread-count independence, the loading path that hands it to a family without the family
// knowing, and candidate models that share the float model's matrices.
#include <catch2/catch.hpp>

#include "convert/quantized_weights.h"
#include "model/family.h"
#include "model/model.h"
#include "model/stored_linear.h"
#include "synth/synth.h"
#include "test_util.h"
#include "util/error.h"

using namespace squint;

namespace {

// The demo synthetic (hidden 256, vocab 2048) in two layers: its lm_head's 2048 rows of 256 span two tiles of
// StoredLinear::tile_rows(256) = 1024.
Checkpoint stored_test_ckpt(DType dtype) {
  SynthSpec s = synth_preset("demo");
  s.layers = 2;
  s.dtype = dtype;
  return synth_in_memory(s);
}

ModelHparams stored_test_hparams(const Checkpoint& ck) { return hparams_from_config(ck.config.raw, "config.json"); }

// Tiles in reverse order: what a pool of any size may do, since tiles write disjoint columns.
void stored_test_reverse_for(std::size_t n, const std::function<void(std::size_t)>& body) {
  for (std::size_t i = n; i-- > 0;) body(i);
}

const std::vector<int> kStoredTokens{1, 17, 300, 5, 999, 42, 7, 1500, 3, 64, 128, 2047};

}  // namespace

TEST_CASE("StoredLinear: tile by tile, the float32 product of the stored values", "[stored_linear]") {
  for (DType dt : {DType::BF16, DType::F16}) {
    // 700 rows of 512 columns: tile_rows(512) = 512, so two tiles, the second partial.
    const int64_t out = 700, in = 512;
    const auto vals = test::randn(static_cast<std::size_t>(out * in), 7, 0.05f);
    auto bytes = std::make_shared<std::vector<uint8_t>>(vals.size() * 2);
    from_f32(dt, vals.data(), vals.size(), bytes->data());
    RowMat w(out, in);
    REQUIRE(to_f32(dt, bytes->data(), vals.size(), w.data()));
    StoredLinear sl("w", out, in, dt, std::shared_ptr<const uint8_t>(bytes, bytes->data()));
    REQUIRE(StoredLinear::tile_rows(in) == 512);
    RowMat x(9, in);
    const auto xv = test::randn(static_cast<std::size_t>(9 * in), 8);
    std::copy(xv.begin(), xv.end(), x.data());
    const RowMat ref = x * w.transpose();
    const RowMat y = sl.apply(x);
    CHECK((y - ref).cwiseAbs().maxCoeff() <= 1e-5f * ref.cwiseAbs().maxCoeff());
    // Negative control: one weight changed by one BF16/F16 step is seen.
    RowMat w2 = w;
    w2(650, 3) = round_to_dtype(w2(650, 3) * 1.25f + 0.01f, dt);
    CHECK((x * w2.transpose() - y).cwiseAbs().maxCoeff() > 1e-5f * ref.cwiseAbs().maxCoeff());
    // rows_f32 gives the stored values exactly.
    std::vector<float> rows(static_cast<std::size_t>(3 * in));
    sl.rows_f32(600, 3, rows.data());
    CHECK(std::equal(rows.begin(), rows.end(), w.data() + 600 * in));
    // The split is fixed by the shape: any order of the tiles gives the same bits.
    StoredLinear rev("w", out, in, dt, std::shared_ptr<const uint8_t>(bytes, bytes->data()), stored_test_reverse_for);
    const RowMat y2 = rev.apply(x);
    CHECK(std::equal(y.data(), y.data() + y.size(), y2.data()));
  }
}

TEST_CASE("stored_linears: a BF16 checkpoint runs from its stored bytes, as its float32 copy does", "[stored_linear]") {
  const Checkpoint ck = stored_test_ckpt(DType::BF16);
  const ModelHparams h = stored_test_hparams(ck);
  const Model dense(h, float_weights(ck));
  const Model stored(h, float_weights(ck), stored_linears(ck, serial()));
  // Every matrix is a StoredLinear, none a float32 copy: the family did not have to know.
  const auto lin = linears_by_name(stored.weights());
  REQUIRE(lin.size() == 2 + 2 * 7);
  uint64_t stored_bytes = 0;
  for (const auto& [name, l] : lin) {
    const auto* s = dynamic_cast<const StoredLinear*>(l.get());
    REQUIRE(s);
    CHECK(s->dtype() == DType::BF16);
    stored_bytes += static_cast<uint64_t>(l->out() * l->in()) * 2;
  }
  uint64_t ck_matrix_bytes = 0;
  for (const auto& t : ck.tensors)
    if (t.shape.size() == 2) ck_matrix_bytes += t.nbytes;
  CHECK(stored_bytes == ck_matrix_bytes);

  const RowMat a = dense.logits(kStoredTokens), b = stored.logits(kStoredTokens);
  const float scale = a.cwiseAbs().maxCoeff(), diff = (a - b).cwiseAbs().maxCoeff();
  CHECK(diff <= 1e-5f * scale);
  // Negative control: the float model with one weight nudged by about one BF16 step is told apart.
  WeightSource fl = float_weights(ck);
  WeightSource nudged = [fl](const std::string& n, std::vector<int64_t>* shape, std::vector<float>* d) {
    if (!fl(n, shape, d)) return false;
    if (n == "model.layers.0.self_attn.q_proj.weight")
      for (std::size_t i = 0; i < d->size(); i += 97) (*d)[i] *= 1.01f;
    return true;
  };
  const Model off(h, nudged);
  CHECK((a - off.logits(kStoredTokens)).cwiseAbs().maxCoeff() > 10 * diff);
  // Tiles in any order: the same bits.
  const Model rev(h, float_weights(ck), stored_linears(ck, stored_test_reverse_for));
  const RowMat c = rev.logits(kStoredTokens);
  CHECK(std::equal(b.data(), b.data() + b.size(), c.data()));
}

TEST_CASE("stored_linears: F32 weights stay float32 products, bit for bit", "[stored_linear]") {
  const Checkpoint ck = stored_test_ckpt(DType::F32);
  const ModelHparams h = stored_test_hparams(ck);
  const Model stored(h, float_weights(ck), stored_linears(ck, serial()));
  for (const auto& [name, l] : linears_by_name(stored.weights())) CHECK(dynamic_cast<const DenseLinear*>(l.get()));
  const RowMat a = Model(h, float_weights(ck)).logits(kStoredTokens), b = stored.logits(kStoredTokens);
  CHECK(std::equal(a.data(), a.data() + a.size(), b.data()));
}

TEST_CASE("shared_linears: a candidate model is the base model with only the changed matrices replaced",
          "[stored_linear]") {
  const Checkpoint ck = stored_test_ckpt(DType::BF16);
  const ModelHparams h = stored_test_hparams(ck);
  const Model base(h, float_weights(ck), stored_linears(ck, serial()));
  const std::string q = "model.layers.1.mlp.down_proj.weight";
  const Model cand(h, float_weights(ck), shared_linears(base.weights(), {q}));
  const auto b = linears_by_name(base.weights()), c = linears_by_name(cand.weights());
  REQUIRE(b.size() == c.size());
  for (const auto& [name, l] : c) {
    if (name == q) {
      CHECK(l != b.at(name));  // read again, as float32 from the source
      CHECK(dynamic_cast<const DenseLinear*>(l.get()));
    } else {
      CHECK(l == b.at(name));  // the same object: no second copy
    }
  }
}

TEST_CASE("plan_changed_tensors: what a plan quantizes or casts, nothing else", "[stored_linear]") {
  const Checkpoint ck = stored_test_ckpt(DType::BF16);
  Plan p;
  p.fingerprint = ck.fingerprint;
  p.f32_out_dtype = DType::F16;
  PlanTensor t;
  t.name = "model.layers.0.mlp.up_proj.weight";
  t.bits = 4;
  t.group_size = 64;
  p.tensors.push_back(t);
  CHECK(plan_changed_tensors(ck, p) == std::set<std::string>{t.name});
  // An F32 checkpoint written as F16 changes every tensor.
  const Checkpoint f = stored_test_ckpt(DType::F32);
  p.fingerprint = f.fingerprint;
  CHECK(plan_changed_tensors(f, p).size() == f.tensors.size());
}

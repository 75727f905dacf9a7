// The forward pass and tokenizer against ../shared/models/stories260K/REFERENCE.txt (an independent
// float64 implementation), and the evaluation statistics.
#include <catch2/catch.hpp>
#include <cmath>
#include <regex>

#include "eval/perplexity.h"
#include "eval_model.h"
#include "file_source.h"
#include "test_util.h"
#include "tokenizer_sp.h"

using namespace squint;
using namespace squint::test;

namespace {
std::string reference() { return read_text_file(stories() + "/REFERENCE.txt"); }

std::vector<double> numbers_after(const std::string& text, const std::string& key) {
  auto p = text.find(key);
  REQUIRE(p != std::string::npos);
  auto a = text.find('[', p), b = text.find(']', a);
  std::vector<double> v;
  std::string body = text.substr(a + 1, b - a - 1);
  std::regex num(R"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), num); it != std::sregex_iterator(); ++it)
    v.push_back(std::stod(it->str()));
  return v;
}
std::vector<int> ints(const std::vector<double>& v) { return std::vector<int>(v.begin(), v.end()); }
std::string quoted_after(const std::string& text, const std::string& key) {
  auto p = text.find(key);
  auto a = text.find('"', p), b = text.find('"', a + 1);
  return text.substr(a + 1, b - a - 1);
}
}  // namespace

TEST_CASE("stories260K: logits at position 0 match the reference", "[eval]") {
  auto m = load_model(stories());
  RowMat lg = m->logits({1});
  auto want = numbers_after(reference(), "logits at position 0 (input BOS only), first 8:");
  REQUIRE(want.size() == 8);
  for (int i = 0; i < 8; ++i) CHECK(lg(0, i) == Approx(want[i]).margin(1e-4));
  Eigen::Index arg;
  lg.row(0).maxCoeff(&arg);
  CHECK(arg == 403);
}

TEST_CASE("stories260K: sample NLL and tokenization match the reference", "[eval]") {
  const std::string ref = reference();
  auto tok = load_model_tokenizer(stories());
  const std::string text = quoted_after(ref, "sample_text:");
  std::vector<int> ids = tok->encode(text);
  ids.insert(ids.begin(), tok->bos_id());
  CHECK(ids == ints(numbers_after(ref, "sample_token_ids (BOS + sp.encode):")));
  auto m = load_model(stories());
  std::size_t n = 0;
  const double total = m->nll(ids, &n);
  CHECK(n == 44);
  auto p = ref.find("sample mean NLL (nats/token, 44 predicted tokens):");
  const double want = std::stod(ref.substr(p + std::string("sample mean NLL (nats/token, 44 predicted tokens):").size()));
  CHECK(total / static_cast<double>(n) == Approx(want).margin(1e-4));
}

TEST_CASE("stories260K: greedy generation reproduces the reference tokens", "[eval]") {
  auto m = load_model(stories());
  auto want = ints(numbers_after(reference(), "greedy_token_ids (including leading BOS):"));
  REQUIRE(want.size() == 201);
  CHECK(m->generate_greedy({1}, 200) == want);
}

TEST_CASE("evaluation text protocol and statistics", "[eval]") {
  CHECK(prepare_eval_text("a\n\n \nb\r\n\nc") == "a\n\nb\n\nc");
  auto all = sample_windows(10, 0, 42);
  CHECK(all.size() == 10);
  auto some = sample_windows(100, 7, 42);
  CHECK(some.size() == 7);
  CHECK(std::is_sorted(some.begin(), some.end()));
  CHECK(some == sample_windows(100, 7, 42));
  CHECK(some != sample_windows(100, 7, 43));
  // Windows with NLL ln(2), ln(4), ln(8): mean PPL = exp(mean NLL) = 4, median PPL = 4.
  std::vector<WindowResult> w = {{0, std::log(2.0), 10}, {1, std::log(4.0), 10}, {2, std::log(8.0), 10}};
  PplStats s = ppl_stats(w);
  CHECK(s.mean_ppl == Approx(4.0));
  CHECK(s.median_ppl == Approx(4.0));
  CHECK(s.over_100 == 0);
  std::vector<WindowResult> w2 = {{0, std::log(2.2), 10}, {1, std::log(4.0), 10}, {2, std::log(7.0), 10}};
  CompareResult c = compare_runs(w, w2);
  CHECK(c.improved == Approx(1.0 / 3));
  CHECK(c.degraded == Approx(1.0 / 3));
  CHECK(c.quartile_change.size() == 4);
}

TEST_CASE("matched noise has the requested SQNR", "[eval]") {
  auto w = randn(200000, 3, 0.02f);
  auto orig = w;
  add_matched_noise(w.data(), w.size(), 20.0, 42, "t");
  double s = 0, e = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    s += static_cast<double>(orig[i]) * orig[i];
    e += (static_cast<double>(w[i]) - orig[i]) * (static_cast<double>(w[i]) - orig[i]);
  }
  CHECK(10 * std::log10(s / e) == Approx(20.0).margin(0.05));
}

TEST_CASE("CLI eval writes per-window JSON, compare reads two runs", "[eval][cli]") {
  TempDir d;
  const std::string text = d.str("t.txt");
  write_text(text, "Once upon a time, there was a little girl named Lily.\n\nShe loved to play outside in the park. "
                   "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n");
  std::string out;
  REQUIRE(run(cli() + " -q eval " + stories() + " --text " + text + " --seq-len 16 --json " + d.str("a.json"), &out) == 0);
  auto j = nlohmann::json::parse(read_text_file(d.str("a.json")));
  CHECK(j["windows"].size() >= 2);
  CHECK(j["median_ppl"].get<double>() > 1.0);
  REQUIRE(run(cli() + " compare " + d.str("a.json") + " " + d.str("a.json"), &out) == 0);
  CHECK_THAT(out, Catch::Contains("0.0% improved"));
  CHECK(run(cli() + " -q eval " + stories() + " --text " + d.str("missing.txt"), &out) == 2);
}

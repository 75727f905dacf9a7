// Partitioned and resumable analysis in the core (analysis/analysis_parts.h, analysis_journal.h): which
// tensors a part gets, how parts merge, and how a journal is read back. The CLI faces are tested in
// test_analysis_parts.cpp.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "analysis/analysis_journal.h"
#include "analysis/analysis_json.h"
#include "analysis/analysis_parts.h"
#include "analysis/analysis_run.h"
#include "io/checkpoint.h"
#include "synth/synth.h"
#include "util/error.h"

using namespace squint;
using nlohmann::json;

namespace {
Checkpoint synth_checkpoint(const std::string& preset, uint64_t seed = 42) {
  SynthSpec s = synth_preset(preset);
  s.seed = seed;
  return synth_in_memory(s);
}

AnalyzeOptions gguf_options() {
  AnalyzeOptions o;
  o.format = QFormat::Gguf;
  o.configs = all_gguf_configs();
  return o;
}

// Part files of a split into n, made the way `analyze --part K/N` makes them.
std::vector<PartFile> make_parts(const Checkpoint& ck, const AnalyzeOptions& opt, int n,
                                 const std::string& squint = "test") {
  std::vector<PartFile> files;
  for (int k = 1; k <= n; ++k) {
    AnalysisRun run(ck, opt);
    const auto idx = part_tensors(ck, opt, {k, n});
    run.run(idx);
    const auto id = analysis_identity(ck, run.header(), false, squint, {k, n});
    files.push_back({"part-" + std::to_string(k) + ".json", part_to_json(id, idx, run.finish_subset(idx)).dump(2)});
  }
  return files;
}
}  // namespace

TEST_CASE("parse_part_spec reads K/N and nothing else", "[parts]") {
  CHECK(parse_part_spec("1/1")->count == 1);
  CHECK(parse_part_spec("3/7")->index == 3);
  CHECK(parse_part_spec("7/7")->index == 7);
  for (const char* bad : {"0/3", "4/3", "3", "/3", "3/", "a/3", "-1/3", "1/0", "1/3/4", " 1/3", "1/999999", ""})
    CHECK_FALSE(parse_part_spec(bad).has_value());
}

TEST_CASE("parts: every tensor in exactly one part, expert groups together, balanced by cost, deterministic",
          "[parts]") {
  const Checkpoint ck = synth_checkpoint("moe");
  for (const AnalyzeOptions& opt : {AnalyzeOptions{}, gguf_options()}) {
    uint64_t total = 0, largest_unit = 0;
    std::map<std::string, uint64_t> unit_cost;
    for (const auto& t : ck.tensors) unit_cost[classify_tensor(t, ck.config).group_key] += analysis_cost(t, opt);
    for (const auto& [k, c] : unit_cost) {
      total += c;
      largest_unit = std::max(largest_unit, c);
    }
    for (int n : {1, 2, 3, 7}) {
      const std::vector<int> part = assign_parts(ck, opt, n);
      CHECK(part == assign_parts(ck, opt, n));  // deterministic
      std::map<std::string, std::set<int>> parts_of_group;
      std::vector<uint64_t> load(static_cast<std::size_t>(n), 0);
      std::vector<std::size_t> covered;
      for (int k = 1; k <= n; ++k) {
        const auto idx = part_tensors(ck, opt, {k, n});
        CHECK(std::is_sorted(idx.begin(), idx.end()));
        covered.insert(covered.end(), idx.begin(), idx.end());
        for (std::size_t i : idx) {
          parts_of_group[classify_tensor(ck.tensors[i], ck.config).group_key].insert(k);
          load[static_cast<std::size_t>(k - 1)] += analysis_cost(ck.tensors[i], opt);
        }
      }
      std::sort(covered.begin(), covered.end());
      REQUIRE(covered.size() == ck.tensors.size());
      for (std::size_t i = 0; i < covered.size(); ++i) CHECK(covered[i] == i);
      for (const auto& [g, ks] : parts_of_group) CHECK(ks.size() == 1);
      // Greedy by decreasing cost: no part exceeds the mean by more than the largest unit.
      for (uint64_t l : load) CHECK(l <= total / static_cast<uint64_t>(n) + largest_unit);
    }
  }
  // The moe preset's experts are separate tensors sharing a group key: the check above has teeth.
  std::size_t grouped = 0;
  for (const auto& t : ck.tensors) grouped += classify_tensor(t, ck.config).group_key != t.name;
  CHECK(grouped >= 8);
}

TEST_CASE("parts: a GGUF K-quant candidate costs far more per parameter than an MLX config", "[parts]") {
  TensorInfo q{"model.layers.0.self_attn.q_proj.weight", DType::BF16, {4096, 4096}};
  CHECK(analysis_cost(q, gguf_options()) > 20 * analysis_cost(q, AnalyzeOptions{}));
  // 64 wide: no 256-block type (K-quants, IQ4_XS) is a candidate, so the same tensor costs far less.
  TensorInfo narrow{"model.layers.0.self_attn.q_proj.weight", DType::BF16, {262144, 64}};
  CHECK(analysis_cost(narrow, gguf_options()) * 4 < analysis_cost(q, gguf_options()));
  TensorInfo norm{"model.norm.weight", DType::BF16, {4096}};
  CHECK(analysis_cost(norm, gguf_options()) == analysis_cost(norm, AnalyzeOptions{}));  // reading only
}

TEST_CASE("merge: N parts in any order give the single run's bytes, refusals name the file", "[parts]") {
  const Checkpoint ck = synth_checkpoint("moe");
  const AnalyzeOptions opt;
  const std::string ref = serialize_analysis(analyze_checkpoint(ck, opt));
  for (int n : {1, 2, 3, 7}) {
    auto files = make_parts(ck, opt, n);
    std::reverse(files.begin(), files.end());
    CHECK(serialize_analysis(merge_analysis_parts(files, "test")) == ref);
  }
  auto files = make_parts(ck, opt, 3);
  // Negative control: joined in file order rather than tensor order, the parts do not give the bytes.
  json naive = json::parse(files[0].text)["analysis"];
  for (std::size_t k = 1; k < files.size(); ++k) {
    const json part = json::parse(files[k].text);  // named: a range-for does not extend the parse temporary
    for (const auto& t : part["analysis"]["tensors"]) naive["tensors"].push_back(t);
  }
  CHECK(naive.dump(1) + "\n" != ref);

  CHECK_THROWS_WITH(merge_analysis_parts(files, "other"), Catch::Contains("part-1.json: made by squint test"));
  CHECK_THROWS_WITH(merge_analysis_parts({files[0], files[2]}, "test"), Catch::Contains("part 2/3 is missing"));
  CHECK_THROWS_WITH(merge_analysis_parts({files[0], files[1], files[1], files[2]}, "test"),
                    Catch::Contains("part-2.json: part 2/3 given twice"));
  auto other_seed = make_parts(synth_checkpoint("moe", 7), opt, 3);
  CHECK_THROWS_WITH(merge_analysis_parts({files[0], other_seed[1], files[2]}, "test"),
                    Catch::Contains("part-2.json: from another model") && Catch::Contains("other weights"));
  auto other_model = make_parts(synth_checkpoint("tiny"), opt, 3);
  CHECK_THROWS_WITH(merge_analysis_parts({files[0], other_model[1], files[2]}, "test"),
                    Catch::Contains("from another model (fingerprint"));
  AnalyzeOptions bits4;
  bits4.configs = {QConfig{4, 32}, QConfig{4, 64}};
  auto other_opts = make_parts(ck, bits4, 3);
  CHECK_THROWS_WITH(merge_analysis_parts({files[0], other_opts[1], files[2]}, "test"),
                    Catch::Contains("part-2.json: made with other options than part-1.json (the candidates"));
  auto split4 = make_parts(ck, opt, 4);
  CHECK_THROWS_WITH(merge_analysis_parts({files[0], split4[1], files[2]}, "test"), Catch::Contains("split into 4"));
  // Damaged parts: a tensor listed twice, an index out of range, not a part at all.
  json j = json::parse(files[1].text);
  j["indices"][0] = json::parse(files[0].text)["indices"][0];
  CHECK_THROWS(merge_analysis_parts({files[0], {"bad.json", j.dump()}, files[2]}, "test"));
  j = json::parse(files[1].text);
  j["indices"].back() = 100000;
  CHECK_THROWS_WITH(merge_analysis_parts({files[0], {"bad.json", j.dump()}, files[2]}, "test"),
                    Catch::Contains("bad.json"));
  CHECK_THROWS_WITH(merge_analysis_parts({{"a.json", ref}}, "test"),
                    Catch::Contains("a.json: not a squint analysis part"));
  CHECK_THROWS_WITH(merge_analysis_parts({{"a.json", "{"}}, "test"), Catch::Contains("a.json: not valid JSON"));
}

TEST_CASE("journal: read back whole, a torn last line dropped, damage and other runs refused", "[parts]") {
  const Checkpoint ck = synth_checkpoint("tiny");
  AnalysisRun run(ck, AnalyzeOptions{});
  const auto id = analysis_identity(ck, run.header(), false, "test", {});
  std::string text = journal_header_line(id);
  for (std::size_t i = 0; i < 4; ++i) text += journal_record_line(i, run.measure(i));

  JournalRead r = read_journal(text, id, "j");
  CHECK(r.records.size() == 4);
  CHECK(r.valid_bytes == text.size());
  CHECK_FALSE(r.torn_tail);
  CHECK(tensor_to_json(r.records[2].second) == tensor_to_json(run.measure(2)));

  // Cut anywhere inside the last line: that line is dropped, the rest kept.
  const std::size_t last = text.rfind('\n', text.size() - 2) + 1;
  for (std::size_t cut : {last + 1, (last + text.size()) / 2, text.size() - 1}) {
    r = read_journal(text.substr(0, cut), id, "j");
    CHECK(r.records.size() == 3);
    CHECK(r.valid_bytes == last);
    CHECK(r.torn_tail);
  }
  CHECK(read_journal("", id, "j").valid_bytes == 0);
  CHECK(read_journal(text.substr(0, 10), id, "j").valid_bytes == 0);  // a torn header: start over

  // A changed byte before the end is damage, not a kill.
  std::string bad = text;
  bad[last - 5] = bad[last - 5] == '0' ? '1' : '0';
  CHECK_THROWS_WITH(read_journal(bad, id, "j"), Catch::Contains("j: line 4 is damaged"));
  // Another run's journal: other squint, other options, other part.
  CHECK_THROWS_WITH(read_journal(text, analysis_identity(ck, run.header(), false, "other", {}), "j"),
                    Catch::Contains("made by squint test"));
  CHECK_THROWS_WITH(read_journal(text, analysis_identity(ck, run.header(), true, "test", {}), "j"),
                    Catch::Contains("--features"));
  CHECK_THROWS_WITH(read_journal(text, analysis_identity(ck, run.header(), false, "test", {1, 2}), "j"),
                    Catch::Contains("split into"));
  // The same tensor twice.
  CHECK_THROWS_WITH(read_journal(text + journal_record_line(1, run.measure(1)), id, "j"),
                    Catch::Contains("recorded twice"));
}

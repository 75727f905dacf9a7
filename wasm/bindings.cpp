// Embind bindings over core/: conversion of types only. The worker drives one Session per dropped model:
// open() validates every header, analyzeNext() measures one tensor (so JS can show progress and cancel),
// then the analysis, SQNR table, plans and curves are all computed by the same core functions as the CLI.
// Bytes are pulled through ByteSources that call self.squintReadSlice(file, offset, length) — in the
// worker, FileReaderSync over Blob.slice — so only the slices being measured are ever in memory.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/val.h>

#include <memory>
#include <optional>

#include "analysis/analysis_json.h"
#include "io/checkpoint.h"
#include "plan/options.h"
#include "plan/solver.h"
#include "synth/synth.h"
#include "util/error.h"

using namespace squint;
using emscripten::val;
using nlohmann::json;

namespace {

class JsSource : public ByteSource {
 public:
  JsSource(int id, std::string name, uint64_t size) : id_(id), name_(std::move(name)), size_(size) {}
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, uint64_t len, uint8_t* dst) override {
    if (offset > size_ || len > size_ - offset) fail(name_ + ": read past the end of the file");
    val bytes = val::global("self").call<val>("squintReadSlice", id_, static_cast<double>(offset), static_cast<double>(len));
    if (bytes["length"].as<double>() != static_cast<double>(len)) fail(name_ + ": short read");
    val(emscripten::typed_memory_view(len, dst)).call<void>("set", bytes);
  }
  const std::string& name() const override { return name_; }

 private:
  int id_;
  std::string name_;
  uint64_t size_;
};

class JsFiles : public FileProvider {
 public:
  void add(const std::string& name, double size) { files_.push_back({name, static_cast<uint64_t>(size)}); }
  bool exists(const std::string& f) const override { return index(f) >= 0; }
  std::unique_ptr<ByteSource> open(const std::string& f) const override {
    int i = index(f);
    if (i < 0) fail(f + ": no such file among the dropped files");
    return std::make_unique<JsSource>(i, f, files_[i].second);
  }
  std::vector<std::string> list() const override {
    std::vector<std::string> v;
    for (const auto& f : files_) v.push_back(f.first);
    return v;
  }
  std::string location() const override { return "dropped files"; }

 private:
  int index(const std::string& f) const {
    for (std::size_t i = 0; i < files_.size(); ++i)
      if (files_[i].first == f) return static_cast<int>(i);
    return -1;
  }
  std::vector<std::pair<std::string, uint64_t>> files_;
};

std::string error_json(const std::exception& e) { return json({{"error", e.what()}}).dump(); }

PlanSettings settings_from(const json& j) {
  PlanSettings s;
  s.budget = j.value("budget", std::string());
  s.bpw = j.value("bpw", 0.0);
  s.min_safe = j.value("min_safe", false);
  s.floor = j.value("floor", 9.0);
  s.objective = j.value("objective", std::string("nrmse"));
  s.preset = j.value("preset", std::string());
  return s;
}

class Session {
 public:
  void addFile(const std::string& name, double size) { files_.add(name, size); }

  std::string open() {
    try {
      ck_ = open_checkpoint(files_);
      analysis_ = Analysis{};
      next_ = 0;
      AnalyzeOptions o;
      analysis_.fingerprint = ck_->fingerprint;
      analysis_.location = ck_->location;
      analysis_.files = ck_->files;
      analysis_.f32_out_dtype = o.f32_out_dtype;
      analysis_.configs = o.configs;
      analysis_.num_layers = ck_->config.num_layers;
      analysis_.tied_embeddings = ck_->config.tied_embeddings;
      analysis_.num_experts = ck_->config.num_experts;
      analysis_.total_params = ck_->total_params();
      analysis_.total_bytes = ck_->total_bytes();
      return json({{"tensors", ck_->tensors.size()},
                   {"params", analysis_.total_params},
                   {"bytes", analysis_.total_bytes},
                   {"files", ck_->files},
                   {"fingerprint", ck_->fingerprint},
                   {"warnings", ck_->warnings}})
          .dump();
    } catch (const std::exception& e) {
      ck_.reset();
      return error_json(e);
    }
  }

  // Measures the next tensor; {"done": n, "total": N, "bytes": b, "name": ...} or {"error": ...}.
  std::string analyzeNext() {
    try {
      if (!ck_) fail("no model is open");
      if (next_ < ck_->tensors.size()) {
        const TensorInfo& t = ck_->tensors[next_];
        analysis_.tensors.push_back(analyze_tensor(*ck_, t, AnalyzeOptions{}));
        bytes_ += t.nbytes;
        ++next_;
      }
      return json({{"done", next_},
                   {"total", ck_->tensors.size()},
                   {"bytes", bytes_},
                   {"name", next_ ? ck_->tensors[next_ - 1].name : std::string()}})
          .dump();
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

  std::string analysisJson() const { return analysis_to_json(analysis_).dump(1) + "\n"; }
  std::string sqnrTable() const { return sqnr_table_json(sqnr_table(analysis_)).dump(); }

  // Per tensor and config SQNR, for the histogram, the failing-tensor lists and the bit map (every 2-D+
  // tensor; unmeasured ones have no configs).
  std::string tensorSqnr() const {
    json a = json::array();
    for (const auto& t : analysis_.tensors) {
      if (t.shape.size() < 2) continue;
      json c = json::object();
      for (const auto& r : t.results) c[std::to_string(r.config.bits) + "/" + std::to_string(r.config.group)] = r.sqnr_db;
      a.push_back({{"name", t.name}, {"role", role_name(t.role.role)}, {"layer", t.role.layer}, {"sqnr", c}});
    }
    return a.dump();
  }

  // {"plan": <plan.json text>, "min_bytes", "max_bytes", "total_params"} or {"error"}.
  std::string plan(const std::string& settings) {
    try {
      const PlanOptions o = plan_options_from(settings_from(json::parse(settings)), true);
      PlanProblem p = build_problem(analysis_, o);
      Plan plan = make_plan(analysis_, o);
      return json({{"plan", serialize_plan(plan)},
                   {"min_bytes", p.min_bytes},
                   {"max_bytes", p.max_bytes},
                   {"total_params", p.total_params}})
          .dump();
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

  std::string curve(const std::string& settings, int points) {
    try {
      const PlanOptions o = plan_options_from(settings_from(json::parse(settings)), false);
      PlanProblem p = build_problem(analysis_, o);
      json a = json::array();
      for (const auto& c : budget_curve(analysis_, o, p.min_bytes, p.max_bytes, points))
        a.push_back({{"bytes", c.bytes}, {"loss", c.objective}, {"bpw", c.bpw_effective}});
      return a.dump();
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

 private:
  JsFiles files_;
  std::optional<Checkpoint> ck_;
  Analysis analysis_;
  std::size_t next_ = 0;
  uint64_t bytes_ = 0;
};

// Smoke entry for node tests and benchmarks: analysis of a checkpoint given as in-memory files.
std::string analyzeBytes(val names, val buffers) {
  try {
    MemoryProvider mp;
    const unsigned n = names["length"].as<unsigned>();
    for (unsigned i = 0; i < n; ++i)
      mp.add(names[i].as<std::string>(), emscripten::convertJSArrayToNumberVector<uint8_t>(buffers[i]));
    Checkpoint ck = open_checkpoint(mp);
    return analysis_to_json(analyze_checkpoint(ck, AnalyzeOptions{})).dump(1) + "\n";
  } catch (const std::exception& e) {
    return error_json(e);
  }
}

// Benchmark entry: analysis of a synthetic checkpoint generated in memory (no I/O in the timing), seconds.
double benchAnalyzeSynthetic(const std::string& preset, int layers, int vocab) {
  SynthSpec s = synth_preset(preset);
  s.layers = layers;
  s.vocab = vocab;
  auto specs = synth_tensors(s);
  std::string prefix = build_safetensors_prefix(specs, {});
  std::vector<uint8_t> bytes(prefix.begin(), prefix.end());
  for (const auto& t : specs) {
    const std::size_t off = bytes.size(), n = t.nbytes() / (dtype_bits(t.dtype) / 8);
    bytes.resize(off + t.nbytes());
    synth_fill(s, t, 0, n, bytes.data() + off);
  }
  MemoryProvider mp;
  mp.add("model.safetensors", std::move(bytes));
  Checkpoint ck = open_checkpoint(mp);
  const double t0 = emscripten_get_now();
  analyze_checkpoint(ck, AnalyzeOptions{});
  return (emscripten_get_now() - t0) / 1000.0;
}

}  // namespace

EMSCRIPTEN_BINDINGS(squint) {
  emscripten::class_<Session>("Session")
      .constructor<>()
      .function("addFile", &Session::addFile)
      .function("open", &Session::open)
      .function("analyzeNext", &Session::analyzeNext)
      .function("analysisJson", &Session::analysisJson)
      .function("sqnrTable", &Session::sqnrTable)
      .function("tensorSqnr", &Session::tensorSqnr)
      .function("plan", &Session::plan)
      .function("curve", &Session::curve);
  emscripten::function("analyzeBytes", &analyzeBytes);
  emscripten::function("benchAnalyzeSynthetic", &benchAnalyzeSynthetic);
}

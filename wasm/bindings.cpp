// Embind bindings over core/: conversion of types only. Each worker holds one Session per dropped model:
// open() validates every header and proposes work batches, analyzeRange() measures a batch (the page
// spreads batches over one worker per core), assemble() joins the pieces in one session, whose analysis,
// SQNR table, plans, plan previews and curves come from the same core functions as the CLI's.
// Bytes are pulled through ByteSources that call self.squintReadSlice(file, offset, length) — in the
// worker, FileReaderSync over Blob.slice — so only the slices being measured are ever in memory.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/val.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>

#include "analysis/analysis_json.h"
#include "analysis/analysis_run.h"
#include "convert/gate.h"
#include "convert/gguf_gate.h"
#include "io/checkpoint.h"
#include "io/gguf.h"
#include "io/mlx_model.h"
#include "plan/options.h"
#include "plan/preview.h"
#include "plan/planner.h"
#include "synth/synth.h"
#include "util/error.h"

using namespace squint;
using emscripten::val;
using nlohmann::json;

namespace {

// Read-ahead for the worker's reads. Every FileReaderSync call costs far more in Chromium than its bytes (a
// round trip to the browser process), and the core reads in small pieces: a 64K-element chunk (128 KB of
// BF16), a norm vector, a header field. So reads smaller than a window are served from windows of up to 8 MB
// read in one call. A file read as several interleaved streams (an MLX gate reads weight, scales and biases
// rows of one file by turns) gets a window per stream, at most kStreams: a miss that continues a window's
// stream (starts inside it or at its end) refills that window, any other miss takes the least recently used
// one. So memory is bounded by kStreams windows per open file (one for the analysis's sequential reads), never
// by the file; the windows go with the source (a new file or format opens new sources) or on release().
class ReadAhead {
 public:
  static constexpr uint64_t kWindow = 8ull << 20;
  static constexpr std::size_t kStreams = 3;
  using Fetch = std::function<void(uint64_t offset, uint64_t len, uint8_t* dst)>;

  // Fills dst[0, len) with the bytes at `offset` of a file of `size` bytes (the range is checked already).
  void read(uint64_t offset, uint64_t len, uint8_t* dst, uint64_t size, const Fetch& fetch) {
    if (len == 0) return;
    if (len >= kWindow / 2) return fetch(offset, len, dst);  // big reads gain nothing from a copy
    Window* w = find(offset, len);
    if (!w) {
      w = victim(offset);
      w->begin = offset;
      const uint64_t n = std::min(kWindow, size - offset);
      w->bytes.resize(n);
      fetch(offset, n, w->bytes.data());
    }
    w->used = ++clock_;
    std::copy_n(w->bytes.data() + (offset - w->begin), len, dst);
  }
  void release() { windows_.clear(); }

 private:
  struct Window {
    uint64_t begin = 0, used = 0;
    std::vector<uint8_t> bytes;
    uint64_t end() const { return begin + bytes.size(); }
  };
  Window* find(uint64_t offset, uint64_t len) {
    for (auto& w : windows_)
      if (offset >= w.begin && offset + len <= w.end()) return &w;
    return nullptr;
  }
  Window* victim(uint64_t offset) {
    for (auto& w : windows_)
      if (offset >= w.begin && offset <= w.end()) return &w;  // the same stream, further on
    if (windows_.size() < kStreams) return &windows_.emplace_back();
    return &*std::min_element(windows_.begin(), windows_.end(), [](const Window& a, const Window& b) { return a.used < b.used; });
  }
  std::vector<Window> windows_;
  uint64_t clock_ = 0;
};

class JsSource : public ByteSource {
 public:
  JsSource(int id, std::string name, uint64_t size) : id_(id), name_(std::move(name)), size_(size) {}
  uint64_t size() const override { return size_; }
  // Single-threaded (one worker), so trivially safe for the concurrent-call contract (and for the cache).
  void read_at(uint64_t offset, std::span<uint8_t> out) const override {
    check_range(offset, out.size());
    cache_.read(offset, out.size(), out.data(), size_, [this](uint64_t off, uint64_t len, uint8_t* dst) {
      val bytes = val::global("self").call<val>("squintReadSlice", id_, static_cast<double>(off), static_cast<double>(len));
      if (bytes["length"].as<double>() != static_cast<double>(len)) fail(name_ + ": short read");
      val(emscripten::typed_memory_view(len, dst)).call<void>("set", bytes);
    });
  }
  const std::string& name() const override { return name_; }
  // Frees the read-ahead windows (an idle worker keeps its checkpoint open for plans, not its windows).
  void release() const { cache_.release(); }

 private:
  int id_;
  std::string name_;
  uint64_t size_;
  mutable ReadAhead cache_;
};

// Frees the read-ahead windows of every source of a checkpoint.
void release_windows(const Checkpoint& ck) {
  for (const auto& s : ck.sources)
    if (const auto* js = dynamic_cast<const JsSource*>(s.get())) js->release();
}

// One dropped set (the model, or the quantized model to gate against it). `base` is the index of its first
// file in the worker's list, which holds both sets.
class JsFiles : public FileProvider {
 public:
  explicit JsFiles(int base = 0) : base_(base) {}
  void add(const std::string& name, double size) { files_.push_back({name, static_cast<uint64_t>(size)}); }
  bool exists(const std::string& f) const override { return index(f) >= 0; }
  std::unique_ptr<ByteSource> open(const std::string& f) const override {
    int i = index(f);
    if (i < 0) fail(f + ": no such file among the dropped files");
    return std::make_unique<JsSource>(base_ + i, f, files_[i].second);
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
  int base_ = 0;
  std::vector<std::pair<std::string, uint64_t>> files_;
};

// Every string handed to JS goes through here: file names, tensor names and error messages come from
// untrusted files, and a byte that is not UTF-8 must become U+FFFD, not an exception inside a catch block.
std::string dump_safe(const json& j, int indent = -1) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }
std::string error_json(const std::exception& e) { return dump_safe(json({{"error", e.what()}})); }

PlanSettings settings_from(const json& j) {
  PlanSettings s;
  s.budget = j.value("budget", std::string());
  s.bpw = j.value("bpw", 0.0);
  s.min_safe = j.value("min_safe", false);
  s.floor = j.value("floor", 9.0);
  s.objective = j.value("objective", s.objective);  // core's defaults, so page and CLI plans agree
  s.prior_set = j.value("prior_set", s.prior_set);
  s.preset = j.value("preset", std::string());
  return s;
}

// Consecutive tensor ranges handed to workers as units of work: small enough to spread a model over the
// workers and to show progress, large enough that 100k tiny tensors are not 100k messages.
json work_batches(const std::vector<TensorInfo>& ts) {
  uint64_t total = 0;
  for (const auto& t : ts) total += t.nbytes;
  const uint64_t kBatchBytes = std::clamp<uint64_t>(total / 64, 64ull << 10, 16ull << 20);
  constexpr std::size_t kBatchTensors = 512;
  json out = json::array();
  std::size_t b = 0;
  uint64_t bytes = 0;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    bytes += ts[i].nbytes;
    if (bytes >= kBatchBytes || i + 1 - b >= kBatchTensors || i + 1 == ts.size()) {
      out.push_back({b, i + 1, bytes});
      b = i + 1;
      bytes = 0;
    }
  }
  return out;
}

// squint's seeded demo checkpoint, byte-identical to `squint synth OUT` (same header metadata, same
// config.json text): {"model.safetensors": bytes, "config.json": text}.
std::vector<std::pair<std::string, std::vector<uint8_t>>> synth_files(const SynthSpec& s) {
  auto specs = synth_tensors(s);
  std::string prefix = build_safetensors_prefix(specs, {{"format", "pt"}});
  std::vector<uint8_t> bytes(prefix.begin(), prefix.end());
  for (const auto& t : specs) {
    const std::size_t off = bytes.size(), n = t.nbytes() / (dtype_bits(t.dtype) / 8);
    bytes.resize(off + t.nbytes());
    synth_fill(s, t, 0, n, bytes.data() + off);
  }
  const std::string cfg = synth_config(s).dump(2) + "\n";
  return {{"model.safetensors", std::move(bytes)}, {"config.json", std::vector<uint8_t>(cfg.begin(), cfg.end())}};
}

// The candidate set, as `squint analyze --format mlx|gguf` (every config of the format; F32 written as F16).
AnalyzeOptions analyze_options(const std::string& format) {
  if (format != "mlx" && format != "gguf") fail("unknown candidate format '" + format + "' (mlx or gguf)");
  AnalyzeOptions o;
  o.format = format == "gguf" ? QFormat::Gguf : QFormat::Mlx;
  o.configs = o.format == QFormat::Gguf ? all_gguf_configs() : all_configs();
  return o;
}

// A config's key in tensorSqnr() and the page: the GGUF type name ("Q4_K") or "bits/group".
std::string config_key(QConfig c) {
  return c.gguf() ? config_name(c) : std::to_string(c.bits) + "/" + std::to_string(c.group);
}

class Session {
 public:
  Session() = default;
  Session(const Session&) = delete;  // run_ refers to ck_
  Session& operator=(const Session&) = delete;
  void addFile(const std::string& name, double size) { files_.add(name, size); }
  // Candidates for the next open(): "mlx" (default) or "gguf". {"ok": true} or {"error"}.
  std::string setFormat(const std::string& format) {
    try {
      opts_ = analyze_options(format);
      return "{\"ok\":true}";
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

  // Validates every header (the CLI's code); {"tensors", "params", "bytes", "files", "fingerprint",
  // "warnings", "batches": [[begin, end, bytes], ...]} or {"error"}.
  std::string open() {
    try {
      run_.reset();  // it refers to the checkpoint being replaced
      ck_ = open_checkpoint(files_);
      run_.emplace(*ck_, opts_);
      analysis_ = run_->header();
      return dump_safe({{"tensors", ck_->tensors.size()},
                        {"params", analysis_.total_params},
                        {"bytes", analysis_.total_bytes},
                        {"files", ck_->files},
                        {"fingerprint", ck_->fingerprint},
                        {"warnings", ck_->warnings},
                        {"batches", work_batches(ck_->tensors)}});
    } catch (const std::exception& e) {
      run_.reset();
      ck_.reset();
      return error_json(e);
    }
  }

  // Measures tensors [begin, end) — any worker, any order — and returns their analysis.json entries as
  // {"tensors": [...]}; assemble() puts the pieces back in order. JSON numbers round-trip exactly, so the
  // assembled analysis is the one a single pass makes (the e2e test checks the bytes against the CLI).
  std::string analyzeRange(double begin, double end) {
    try {
      if (!ck_) fail("no model is open");
      const auto b = static_cast<std::size_t>(begin), e = static_cast<std::size_t>(end);
      if (b > e || e > ck_->tensors.size()) fail("tensor range out of bounds");
      Analysis part = run_->header();
      for (std::size_t i = b; i < e; ++i) part.tensors.push_back(run_->measure(i));
      return dump_safe({{"tensors", analysis_to_json(part)["tensors"]}});
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

  // pieces: JSON array of analyzeRange() results in tensor order. {"ok": true} or {"error"}.
  std::string assemble(const std::string& pieces) {
    try {
      if (!ck_) fail("no model is open");
      // The pieces are JSON (they crossed workers): parse them under the run's header, then the run
      // checks each against its tensor and assembles them in order, as the CLI's run does.
      json doc = analysis_to_json(run_->header());
      json& ts = doc["tensors"];
      const json all = json::parse(pieces);
      for (const auto& p : all) {
        const json piece = json::parse(p.get<std::string>());  // named: a temporary's ["tensors"] would dangle
        for (const auto& t : piece.at("tensors")) ts.push_back(t);
      }
      if (ts.size() != run_->size()) fail("analysis pieces do not cover every tensor");
      Analysis parsed = analysis_from_json(doc, "analysis pieces");
      for (std::size_t i = 0; i < parsed.tensors.size(); ++i) run_->put(i, std::move(parsed.tensors[i]));
      analysis_ = run_->finish();
      release_windows(*ck_);  // from here on this worker plans: no more reads
      return "{\"ok\":true}";
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

  std::string analysisJson() const { return dump_safe(analysis_to_json(analysis_), 1) + "\n"; }
  std::string sqnrTable() const { return dump_safe(sqnr_table_json(sqnr_table(analysis_))); }

  // Per tensor and config SQNR, for the histogram and the failing-tensor lists (every 2-D+ tensor;
  // unmeasured ones have no configs).
  std::string tensorSqnr() const {
    json a = json::array();
    for (const auto& t : analysis_.tensors) {
      if (t.shape.size() < 2) continue;
      json c = json::object();
      for (const auto& r : t.results) c[config_key(r.config)] = r.sqnr_db;
      a.push_back({{"name", t.name}, {"sqnr", c}});
    }
    return dump_safe(a);
  }

  // {"plan": <plan.json text>, "preview": <core's plan preview>, "min_bytes", "max_bytes", "total_params"}
  // or {"error"}.
  std::string plan(const std::string& settings) {
    try {
      const PlanOptions o = plan_options_from(settings_from(json::parse(settings)), true);
      PlanProblem p = build_problem(analysis_, o);
      Plan plan = make_plan(analysis_, p, o);
      return dump_safe({{"plan", serialize_plan(plan)},
                        {"preview", preview_to_json(plan_preview(plan, analysis_), plan)},
                        {"min_bytes", p.min_bytes},
                        {"max_bytes", p.max_bytes},
                        {"total_params", p.total_params}});
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

  std::string curve(const std::string& settings, int points) {
    try {
      const PlanOptions o = plan_options_from(settings_from(json::parse(settings)), false);
      PlanProblem p = build_problem(analysis_, o);
      json a = json::array();
      for (const auto& c : budget_curve(p, o, p.min_bytes, p.max_bytes, points))
        a.push_back({{"bytes", c.bytes}, {"loss", c.objective}, {"bpw", c.bpw_effective}});
      return dump_safe(a);
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

  // The measured gate of a quantized model against the open model, as `squint gate ORIGINAL QUANTIZED --json`
  // prints it (same bytes): an MLX model (its files follow the model's in the worker's list; core's
  // gate_models) or one GGUF file, squint's or llama.cpp's (core's gate_gguf). {"report": <gate.json text>,
  // "worst": [indices of the 10 worst tensors, worst first]}, or {"error"} when the two do not correspond.
  std::string gate(val names, val sizes, double floor_db) {
    try {
      if (!ck_) fail("no model is open");
      JsFiles q(static_cast<int>(files_.list().size()));
      const unsigned n = names["length"].as<unsigned>();
      for (unsigned i = 0; i < n; ++i) q.add(names[i].as<std::string>(), sizes[i].as<double>());
      const GateReport r = gate_against(q, floor_db);
      release_windows(*ck_);  // this worker plans again: no more reads of the model
      json worst = json::array();
      for (const GateTensor* t : worst_tensors(r, 10)) worst.push_back(t - r.tensors.data());
      return dump_safe({{"report", dump_safe(gate_report_json(r), 2) + "\n"}, {"worst", worst}});
    } catch (const std::exception& e) {
      return error_json(e);
    }
  }

 private:
  // A GGUF is known by its name (.gguf) or, dropped alone, by its magic, as the CLI knows it; anything
  // else is an MLX model's folder.
  GateReport gate_against(const JsFiles& q, double floor_db) {
    const std::vector<std::string> qf = q.list();
    std::vector<std::string> ggufs;
    for (const auto& f : qf)
      if (f.size() > 5 && f.compare(f.size() - 5, 5, ".gguf") == 0) ggufs.push_back(f);
    if (ggufs.empty() && qf.size() == 1 && looks_like_gguf(*q.open(qf[0]))) ggufs = qf;
    if (ggufs.size() > 1) fail("gate: drop one .gguf file (one GGUF file holds the whole quantized model)");
    if (ggufs.size() == 1) {
      if (qf.size() > 1) fail("gate: drop the .gguf file alone (" + std::to_string(qf.size() - 1) + " other file(s) were dropped with it)");
      auto src = q.open(ggufs[0]);
      const GgufFile g = read_gguf(*src);
      return gate_gguf(*ck_, g, *src, floor_db, serial());
    }
    if (!q.exists("config.json")) fail("gate: the quantized model needs its config.json (it holds the bit widths), or drop a .gguf file");
    MlxModel m = open_mlx_model(q);
    return gate_models(*ck_, m, floor_db, serial());
  }

  JsFiles files_;
  AnalyzeOptions opts_ = analyze_options("mlx");
  std::optional<Checkpoint> ck_;
  std::optional<AnalysisRun> run_;  // over *ck_
  Analysis analysis_;
};

// The demo model as JS: {names: [...], buffers: [Uint8Array, ...]} (copied out of the wasm heap).
val demoFiles() {
  val names = val::array(), buffers = val::array();
  for (auto& [name, bytes] : synth_files(synth_preset("demo"))) {
    names.call<void>("push", name);
    buffers.call<void>("push", val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data())));
  }
  val out = val::object();
  out.set("names", names);
  out.set("buffers", buffers);
  return out;
}

// Smoke entry for node tests and benchmarks: analysis of a checkpoint given as in-memory files.
std::string analyzeBytes(val names, val buffers) {
  try {
    MemoryProvider mp;
    const unsigned n = names["length"].as<unsigned>();
    for (unsigned i = 0; i < n; ++i)
      mp.add(names[i].as<std::string>(), emscripten::convertJSArrayToNumberVector<uint8_t>(buffers[i]));
    Checkpoint ck = open_checkpoint(mp);
    return dump_safe(analysis_to_json(analyze_checkpoint(ck, AnalyzeOptions{})), 1) + "\n";
  } catch (const std::exception& e) {
    return error_json(e);
  }
}

// Benchmark entry: analysis of a synthetic checkpoint generated in memory (no I/O in the timing), seconds.
double benchAnalyzeSynthetic(const std::string& preset, int layers, int vocab) {
  SynthSpec s = synth_preset(preset);
  s.layers = layers;
  s.vocab = vocab;
  MemoryProvider mp;
  for (auto& [name, bytes] : synth_files(s)) mp.add(name, std::move(bytes));
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
      .function("setFormat", &Session::setFormat)
      .function("gate", &Session::gate)
      .function("open", &Session::open)
      .function("analyzeRange", &Session::analyzeRange)
      .function("assemble", &Session::assemble)
      .function("analysisJson", &Session::analysisJson)
      .function("sqnrTable", &Session::sqnrTable)
      .function("tensorSqnr", &Session::tensorSqnr)
      .function("plan", &Session::plan)
      .function("curve", &Session::curve);
  emscripten::function("analyzeBytes", &analyzeBytes);
  emscripten::function("demoFiles", &demoFiles);
  emscripten::function("benchAnalyzeSynthetic", &benchAnalyzeSynthetic);
}

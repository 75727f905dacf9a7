#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "analysis/analysis.h"
#include "analysis/analysis_run.h"
#include "model/checkpoint_check.h"
#include "model/family.h"
#include "quant/ggml_measure.h"
#include "quant/ggml_quants.h"
#include "util/chunks.h"
#include "util/error.h"

namespace squint {

DType output_dtype_for(DType src, DType f32_out_dtype) { return src == DType::F32 ? f32_out_dtype : src; }

ChunkPlan plan_chunks(const std::vector<int64_t>& shape) {
  ChunkPlan c;
  uint64_t numel = 1;
  for (auto d : shape) numel *= static_cast<uint64_t>(d);
  c.cols = shape.empty() ? 1 : static_cast<uint64_t>(shape.back());
  const uint64_t rows = c.cols ? numel / c.cols : 0;
  c.rows_per_expert = shape.size() >= 3 ? static_cast<uint64_t>(shape[shape.size() - 2]) : rows;
  c.experts = c.rows_per_expert ? rows / c.rows_per_expert : 0;
  c.rows_per_chunk = std::max<uint64_t>(1, std::min<uint64_t>(c.rows_per_expert, rows_per_chunk(c.cols)));
  c.chunks_per_expert = c.rows_per_expert ? (c.rows_per_expert + c.rows_per_chunk - 1) / c.rows_per_chunk : 0;
  return c;
}

void ChunkPlan::rows(std::size_t ci, uint64_t* r0, uint64_t* r1) const {
  const uint64_t e = ci / chunks_per_expert, k = ci % chunks_per_expert;
  *r0 = e * rows_per_expert + k * rows_per_chunk;
  *r1 = std::min<uint64_t>(*r0 + rows_per_chunk, (e + 1) * rows_per_expert);
}

ErrorSummary summarize_chunks(const std::vector<std::pair<double, double>>& sums, const ChunkPlan& plan) {
  ErrorSummary r;
  if (plan.experts <= 1) {
    double s = 0, e = 0;
    for (const auto& [si, ei] : sums) {
      s += si;
      e += ei;
    }
    r.nrmse = s > 0 ? canonical_nrmse(std::sqrt(e / s)) : 0.0;
    r.sqnr_db = sqnr_db_from(s, e);
    return r;
  }
  double sum_nrmse = 0, min_db = kMaxSqnrDb;
  for (uint64_t x = 0; x < plan.experts; ++x) {
    double s = 0, e = 0;
    for (uint64_t k = 0; k < plan.chunks_per_expert; ++k) {
      s += sums[x * plan.chunks_per_expert + k].first;
      e += sums[x * plan.chunks_per_expert + k].second;
    }
    sum_nrmse += s > 0 ? std::sqrt(e / s) : 0.0;
    min_db = std::min(min_db, sqnr_db_from(s, e));
  }
  r.nrmse = canonical_nrmse(sum_nrmse / static_cast<double>(plan.experts));
  r.sqnr_db = min_db;
  return r;
}

double canonical_nrmse(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return std::strtod(buf, nullptr);
}

double canonical_db(double x) {
  if (x > kMaxSqnrDb) return kMaxSqnrDb;
  return std::round(x * 1e6) / 1e6;
}

double sqnr_db_from(double signal, double err) {
  if (err <= 0.0) return kMaxSqnrDb;
  if (signal <= 0.0) return -kMaxSqnrDb;
  return canonical_db(10.0 * std::log10(signal / err));
}

namespace {
// Σ_ij c_j (ref − ŵ)² per config and Σ_ij c_j ref², over a [rows, cols] block, for the weighted error.
void weighted_errors(const float* w, const float* ref, std::size_t rows, std::size_t cols, const QConfig* configs,
                     std::size_t nconfigs, DType sdt, const float* c, const float* imatrix, double* signal,
                     std::vector<double>* err) {
  const std::size_t n = rows * cols;
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(c[i % cols]) * ref[i] * ref[i];
  *signal = s;
  err->assign(nconfigs, 0.0);
  std::vector<float> deq(n);
  std::vector<uint8_t> packed;
  std::vector<float> scales, biases;
  for (std::size_t k = 0; k < nconfigs; ++k) {
    const QConfig q = configs[k];
    if (q.gguf()) {
      packed.resize(rows * ggml_row_bytes(q.type, cols));
      ggml_quantize_rows(q.type, w, rows, cols, packed.data(), imatrix);
      ggml_dequantize_rows(q.type, packed.data(), rows, cols, deq.data());
    } else {
      packed.resize(n * static_cast<std::size_t>(q.bits) / 8);
      scales.resize(n / static_cast<std::size_t>(q.group));
      biases.resize(scales.size());
      quantize_rows(w, rows, cols, q, sdt, packed.data(), scales.data(), biases.data());
      dequantize_rows(packed.data(), scales.data(), biases.data(), rows, cols, q, deq.data());
    }
    double e = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(ref[i]) - deq[i];
      e += static_cast<double>(c[i % cols]) * d * d;
    }
    (*err)[k] = e;
  }
}
}  // namespace

TensorAnalysis analyze_tensor(const Checkpoint& ck, const TensorInfo& t, const AnalyzeOptions& opt) {
  TensorAnalysis ta;
  ta.name = t.name;
  ta.shape = t.shape;
  ta.dtype = t.dtype;
  ta.params = t.numel();
  ta.bytes = t.nbytes;
  ta.role = classify_tensor(t, ck.config);
  const bool floaty = is_float_measurable(t.dtype);
  ta.out_dtype = floaty ? output_dtype_for(t.dtype, opt.f32_out_dtype) : t.dtype;
  // A GGUF file stores 1-D tensors (norms, biases) in F32, as llama.cpp's converter does: count them so,
  // and the plan's bytes are the file's tensor bytes.
  // MoE routers too: llama.cpp's converter writes ffn_gate_inp in F32 and llama-quantize never quantizes it.
  const bool gguf_router = opt.format == QFormat::Gguf && ta.role.role == Role::Router;
  if (floaty && opt.format == QFormat::Gguf && (t.shape.size() < 2 || gguf_router)) ta.out_dtype = DType::F32;
  ta.keep_bytes = floaty ? ta.params * (dtype_bits(ta.out_dtype) / 8) : t.nbytes;

  if (!floaty) {
    ta.reason = std::string("dtype ") + dtype_name(t.dtype) + " is not a float weight (F32/F16/BF16); kept as is";
    return ta;
  }
  if (t.shape.size() < 2) {
    ta.reason = t.shape.empty() ? "scalar; always kept" : "1-D tensor; always kept";
  } else if (gguf_router) {
    ta.reason = "MoE router: F32 in GGUF, as llama.cpp keeps it";
  } else if (ta.params == 0) {
    ta.reason = "empty tensor (a zero dimension); kept";
  } else if (opt.format == QFormat::Mlx && !t.name.ends_with(".weight")) {
    // mlx-lm quantizes modules (P.weight → P.scales/P.biases); a bare parameter such as Gemma 3's
    // multi_modal_projector.mm_input_projection_weight has no module to hold them.
    ta.reason = "not a module weight (P.weight): MLX quantizes modules only; kept";
  }
  const uint64_t cols = t.cols();
  // Importance weights for the GGUF quantizers (one slice per expert of a 3-D stack), as llama-quantize passes them.
  const std::vector<float>* iw = opt.imatrix && opt.format == QFormat::Gguf ? opt.imatrix->find(t.name) : nullptr;
  // Without this tensor's weights, a grid type is made neither by ggml (IQ2_XXS, IQ2_XS, IQ1_S) nor by
  // llama-quantize (the six but IQ3_S; token_embd and output excepted: llama-quant.cpp tensor_requires_imatrix).
  const bool embd_or_output = ta.role.role == Role::Embedding || ta.role.role == Role::LmHead;
  auto needs_weights = [&](QConfig c) {
    return c.gguf() && !iw &&
           (ggml_requires_imatrix(c.type) || (!embd_or_output && llama_requires_imatrix(c.type)));
  };
  std::vector<QConfig> valid;
  if (ta.reason.empty()) {
    for (QConfig c : opt.configs) {
      if (needs_weights(c))
        ta.invalid.push_back({c, "needs importance weights, and the imatrix has none for this tensor"});
      else if (cols % static_cast<uint64_t>(c.group) == 0)
        valid.push_back(c);
      else if (c.gguf())
        ta.invalid.push_back({c, "row length " + std::to_string(cols) + " is not a multiple of the block size " +
                                     std::to_string(c.group)});
      else
        ta.invalid.push_back({c, "group size " + std::to_string(c.group) + " does not divide the input dimension " +
                                     std::to_string(cols)});
    }
    if (valid.empty())
      ta.reason = opt.format == QFormat::Gguf
                      ? "no candidate GGUF type's block divides the row length " + std::to_string(cols) + "; kept"
                      : "no candidate group size divides the input dimension " + std::to_string(cols) + "; kept";
  }
  const bool cast = ta.out_dtype != t.dtype;
  if (!ta.reason.empty() && !cast) return ta;

  const ChunkPlan plan = plan_chunks(t.shape);
  const std::size_t nchunks = plan.chunks();
  const std::size_t nv = valid.size();
  const std::size_t esize = dtype_bits(t.dtype) / 8;

  // Column weights for this tensor, when the analysis has them (the weighted error quantizes each chunk
  // once more per config, so it roughly doubles the cost of the tensor).
  const std::vector<float>* cw = opt.column_weights && nv
                                     ? opt.column_weights->for_tensor(t.name, ta.role, ck.config.tied_embeddings, cols)
                                     : nullptr;
  if (nv && iw && iw->size() != cols * plan.experts)
    fail(ck.location + ": tensor '" + t.name + "': the imatrix has " + std::to_string(iw->size()) +
         " weights, expected " + std::to_string(cols * plan.experts));
  struct ChunkOut {
    double signal = 0, cast_err = 0, wsignal = 0;
    std::vector<double> err, werr;
    bool finite = true;
  };
  std::vector<ChunkOut> outs(nchunks);
  auto body = [&](std::size_t ci) {
    uint64_t r0, r1;
    plan.rows(ci, &r0, &r1);
    const uint64_t n = (r1 - r0) * cols;
    std::vector<uint8_t> raw(n * esize);
    ck.sources.at(t.file)->read(t.offset + r0 * cols * esize, raw.size(), raw.data());
    std::vector<float> ref(n);
    ChunkOut& o = outs[ci];
    o.finite = to_f32(t.dtype, raw.data(), n, ref.data());
    if (!o.finite) return;
    const float* w = ref.data();
    std::vector<float> wc;
    if (cast) {
      wc.resize(n);
      double ce = 0;
      for (uint64_t i = 0; i < n; ++i) {
        wc[i] = round_to_dtype(ref[i], ta.out_dtype);
        double d = static_cast<double>(ref[i]) - wc[i];
        ce += d * d;
      }
      o.cast_err = ce;
      w = wc.data();
    }
    o.err.assign(nv, 0.0);
    // Chunks never straddle two experts (plan_chunks), so a chunk has one expert's importance weights.
    const float* im = iw ? iw->data() + (r0 / plan.rows_per_expert) * cols : nullptr;
    if (nv && opt.format == QFormat::Gguf) {
      // Σ ref² exactly as the MLX path computes it (so "keep" agrees across formats), then the ggml port.
      o.signal = measure_rows(w, ref.data(), r1 - r0, cols, nullptr, 0, ta.out_dtype, nullptr);
      ggml_measure_rows(w, ref.data(), r1 - r0, cols, valid.data(), nv, o.err.data(), im);
    } else if (nv)
      o.signal = measure_rows(w, ref.data(), r1 - r0, cols, valid.data(), nv, ta.out_dtype, o.err.data());
    else
      for (uint64_t i = 0; i < n; ++i) o.signal += static_cast<double>(ref[i]) * ref[i];
    if (cw)
      weighted_errors(w, ref.data(), r1 - r0, cols, valid.data(), nv, ta.out_dtype, cw->data(), im, &o.wsignal,
                      &o.werr);
  };
  opt.parallel(nchunks, body);

  for (const auto& o : outs)
    if (!o.finite) {
      ta.results.clear();
      ta.invalid.clear();
      ta.keep_nrmse = 0;
      ta.reason = "contains NaN or Inf values; not measured, kept as is";
      return ta;
    }

  double signal = 0, cast_err = 0;
  for (const auto& o : outs) {
    signal += o.signal;
    cast_err += o.cast_err;
  }
  ta.keep_nrmse = signal > 0 ? canonical_nrmse(std::sqrt(cast_err / signal)) : 0.0;
  ta.keep_sqnr_db = sqnr_db_from(signal, cast_err);
  if (!ta.reason.empty()) return ta;

  for (std::size_t vi = 0; vi < nv; ++vi) {
    ConfigResult r;
    r.config = valid[vi];
    r.bytes = valid[vi].gguf() ? ta.params / cols * ggml_row_bytes(valid[vi].type, cols)
                               : quantized_bytes(ta.params, valid[vi], ta.out_dtype);
    std::vector<std::pair<double, double>> sums;
    for (const auto& o : outs) sums.emplace_back(o.signal, o.err[vi]);
    const ErrorSummary es = summarize_chunks(sums, plan);
    r.nrmse = es.nrmse;
    r.sqnr_db = es.sqnr_db;
    if (cw) {
      std::vector<std::pair<double, double>> ws;
      for (const auto& o : outs) ws.emplace_back(o.wsignal, o.werr[vi]);
      r.weighted_nrmse = summarize_chunks(ws, plan).nrmse;
    } else if (opt.column_weights) {
      r.weighted_nrmse = r.nrmse;
    }
    ta.results.push_back(r);
  }
  ta.measured = true;
  return ta;
}

AnalysisRun::AnalysisRun(const Checkpoint& ck, AnalyzeOptions opt) : ck_(ck), opt_(std::move(opt)), slots_(ck.tensors.size()) {
  // An MoE checkpoint that disagrees with its config.json is refused before any tensor is measured, and GGUF
  // candidates for a configuration llama.cpp cannot run before a plan is made for them.
  if (const auto h = check_family_tensors(ck); h && opt_.format == QFormat::Gguf)
    family_named(h->family).gguf_kv(*h, "");
  Analysis& a = header_;
  a.format = opt_.format;
  a.fingerprint = ck.fingerprint;
  a.location = ck.location;
  a.files = ck.files;
  a.f32_out_dtype = opt_.f32_out_dtype;
  a.configs = opt_.configs;
  a.num_layers = ck.config.num_layers;
  a.tied_embeddings = ck.config.tied_embeddings;
  a.num_experts = ck.config.num_experts;
  a.total_params = ck.total_params();
  a.total_bytes = ck.total_bytes();
  if (opt_.imatrix) a.imatrix = opt_.imatrix->ref;
  if (opt_.column_weights) {
    a.column_weighting = opt_.column_weights->kind;
    a.column_weighting_source = opt_.column_weights->source;
  }
}

TensorAnalysis AnalysisRun::measure(std::size_t i) const {
  if (i >= slots_.size()) fail("analysis: tensor index " + std::to_string(i) + " out of range");
  const TensorInfo& t = ck_.tensors[i];
  TensorAnalysis ta = analyze_tensor(ck_, t, opt_);
  if (opt_.per_tensor_hook && ta.measured) opt_.per_tensor_hook(ck_, t, ta);
  return ta;
}

void AnalysisRun::put(std::size_t i, TensorAnalysis ta) {
  if (i >= slots_.size()) fail("analysis: tensor index " + std::to_string(i) + " out of range");
  if (ta.name != ck_.tensors[i].name)
    fail("analysis: result for " + ta.name + " given as tensor " + std::to_string(i) + " (" + ck_.tensors[i].name + ")");
  slots_[i] = std::move(ta);
}

Analysis AnalysisRun::finish() {
  Analysis a = header_;
  a.tensors.reserve(slots_.size());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]) fail("analysis: tensor " + ck_.tensors[i].name + " was not measured");
    a.tensors.push_back(std::move(*slots_[i]));
    slots_[i].reset();
  }
  return a;
}

Analysis AnalysisRun::finish_subset(const std::vector<std::size_t>& indices) {
  Analysis a = header_;
  for (std::size_t i : indices) {
    if (!has(i))
      fail("analysis: tensor " + (i < ck_.tensors.size() ? ck_.tensors[i].name : std::to_string(i)) +
           " was not measured");
    a.tensors.push_back(*slots_[i]);
  }
  return a;
}

void AnalysisRun::run(const std::vector<std::size_t>& indices,
                      const std::function<void(std::size_t, const TensorAnalysis&)>& measured) {
  AnalyzeProgress p;
  p.tensors_total = indices.size();
  for (std::size_t i : indices) p.bytes_total += ck_.tensors.at(i).nbytes;
  for (std::size_t i : indices)
    if (has(i)) {
      ++p.tensors_done;
      p.bytes_done += ck_.tensors[i].nbytes;
    }
  if (p.tensors_done && opt_.progress) opt_.progress(p);
  for (std::size_t i : indices) {
    if (has(i)) continue;
    if (opt_.cancelled && opt_.cancelled()) fail("analysis cancelled");
    p.current = &ck_.tensors[i].name;
    TensorAnalysis ta = measure(i);
    if (measured) measured(i, ta);
    put(i, std::move(ta));
    ++p.tensors_done;
    p.bytes_done += ck_.tensors[i].nbytes;
    if (opt_.progress) opt_.progress(p);
  }
}

Analysis analyze_checkpoint(const Checkpoint& ck, const AnalyzeOptions& opt) {
  AnalysisRun run(ck, opt);
  std::vector<std::size_t> all(ck.tensors.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  run.run(all);
  return run.finish();
}

}  // namespace squint

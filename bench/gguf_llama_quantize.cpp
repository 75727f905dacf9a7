// llama.cpp's own mixes as baselines: `gguf_llama_quantize IN.gguf OUT.gguf MIX [--imatrix FILE] [--pure]
// [--tensor-type REGEX=TYPE ...] [--lib LIBLLAMA] [--threads N] [--verbose]`. Calls the real llama_model_quantize
// (dlopen'ed from node-llama-cpp's prebuilt libllama, native/llama_quantize.h) with
// llama_model_quantize_default_params() and the mix's ftype, exactly what `llama-quantize [--imatrix FILE] IN OUT
// MIX` does: the imatrix (GGUF or legacy .dat, squint's or llama-imatrix's) is read and turned into the
// quantizer's weights as tools/quantize/quantize.cpp does (core/io/imatrix.h). IN is a float (F32/F16) GGUF,
// e.g. `squint quantize MODEL --format gguf --type F32`. The output is written under a temporary name and
// renamed; llama.cpp's warnings (type fallbacks for rows that are not a multiple of the block size) go to
// stderr. Used by bench/gguf/mixes.sh.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "convert/gguf_llama.h"
#include "file_source.h"
#include "io/imatrix.h"
#include "llama_quantize.h"
#include "util/error.h"

namespace {

int usage(const char* msg) {
  if (msg) std::fprintf(stderr, "error: %s\n", msg);
  std::fprintf(
      stderr,
      "usage: gguf_llama_quantize IN.gguf OUT.gguf MIX [--imatrix FILE] [--pure] [--tensor-type REGEX=TYPE]...\n"
      "                           [--lib LIBLLAMA] [--threads N] [--verbose]\n  MIX: ");
  for (const auto& m : squint::llama_ftype_names()) std::fprintf(stderr, "%s ", m.c_str());
  std::fprintf(stderr,
               "\n  LIBLLAMA default: $SQUINT_LIBLLAMA, else node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/"
               "libllama.v0.4.0.so\n  of the checkout whose build folder holds this binary, else of the working directory\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  squint::LlamaQuantizeRequest r;
  std::string mix, imatrix;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") return usage(nullptr), 0;
    if (a == "--verbose") {
      r.verbose = true;
    } else if (a == "--pure") {
      r.pure = true;
    } else if ((a == "--lib" || a == "--threads" || a == "--imatrix" || a == "--tensor-type") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "--lib")
        r.lib = v;
      else if (a == "--threads")
        r.threads = std::atoi(v.c_str());
      else if (a == "--imatrix")
        imatrix = v;
      else {
        const auto eq = v.rfind('=');
        const auto type = eq == std::string::npos ? std::nullopt : squint::gguf_type_id_from_name(v.substr(eq + 1));
        if (!type) return usage(("--tensor-type wants REGEX=TYPE, got " + v).c_str());
        r.tensor_types.emplace_back(v.substr(0, eq), *type);
      }
    } else if (!a.empty() && a[0] == '-') {
      return usage(("unknown option " + a).c_str());
    } else if (r.in.empty()) {
      r.in = a;
    } else if (r.out.empty()) {
      r.out = a;
    } else if (mix.empty()) {
      mix = a;
    } else {
      return usage("too many arguments");
    }
  }
  if (mix.empty()) return usage("need IN.gguf OUT.gguf MIX");
  r.ftype = squint::llama_ftype_from_name(mix);
  if (r.ftype < 0) return usage(("unknown mix " + mix).c_str());
  if (r.threads < 1) return usage("--threads must be >= 1");
  if (!std::filesystem::is_regular_file(r.in)) {
    std::fprintf(stderr, "error: %s: no such file\n", r.in.c_str());
    return 2;
  }
  // Temporary named as native/atomic_output.cpp names them (".NAME.tmp-PID-RANDOM" beside the target), so a
  // killed run's leftover is recognised and cleaned like any other.
  const std::filesystem::path op(r.out);
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%08x", static_cast<long>(getpid()), 0x6c6c7175u);
  const std::string out = r.out;
  r.out = (op.parent_path() / ("." + op.filename().string() + suffix)).string();
  std::error_code ec;
  try {
    std::map<std::string, std::vector<float>> weights;
    if (!imatrix.empty()) {
      squint::FileSource f(imatrix);
      weights = squint::imatrix_quant_weights(squint::read_imatrix(f));
      r.imatrix = &weights;
    }
    squint::llama_quantize_file(r);
  } catch (const squint::Error& e) {
    std::filesystem::remove(r.out, ec);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::filesystem::rename(r.out, out, ec);
  if (ec) {
    std::filesystem::remove(r.out, ec);
    std::fprintf(stderr, "error: cannot rename to %s\n", out.c_str());
    return 1;
  }
  std::fprintf(stderr, "wrote %s (llama.cpp %s%s, %ju bytes)\n", out.c_str(), mix.c_str(),
               imatrix.empty() ? "" : (" with imatrix " + imatrix).c_str(),
               static_cast<uintmax_t>(std::filesystem::file_size(out)));
  return 0;
}

// squint generate MODEL --prompt TEXT -n N: greedy decoding, mainly to prove the forward pass right.
#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "applies.h"
#include "command.h"
#include "eval_model.h"
#include "input_kind.h"
#include "output.h"
#include "tokenizer_sp.h"
#include "util/error.h"

namespace squint {

namespace {

struct GenCmd {
  std::string model, prompt;
  int n = 64;
  bool ids = false;
  OutputCli out;
};

int run_generate(const GenCmd& o) {
  expect_runnable_model(o.model);
  auto tok = load_model_tokenizer(tokenizer_source(o.model));
  auto model = load_model(o.model);
  std::vector<int> seq = tok->encode(o.prompt);
  if (tok->add_bos) seq.insert(seq.begin(), tok->bos_id());
  const std::size_t start = tok->add_bos ? 1 : 0;
  // Positions beyond the context the model was trained for give text that means nothing (as eval's windows).
  const int ctx = model_context_length(o.model);
  if (ctx > 0 && static_cast<int64_t>(seq.size()) + o.n > ctx)
    fail(
        fmt::format("generate: the prompt's {} tokens and -n {} make {}, beyond the context of {} ({} tokens); give "
                    "-n at most {}",
                    seq.size(), o.n, seq.size() + static_cast<std::size_t>(std::max(o.n, 0)), o.model, ctx,
                    std::max<int64_t>(0, ctx - static_cast<int64_t>(seq.size()))));
  std::vector<int> out = model->generate_greedy(seq, o.n);
  const std::string text = tok->decode(std::vector<int>(out.begin() + static_cast<std::ptrdiff_t>(start), out.end()));
  emit_document(o.out, nlohmann::json{{"format", "squint.generate"}, {"version", 1}, {"model", o.model},
                                      {"prompt", o.prompt}, {"ids", out}, {"text", text}});
  if (o.out.json) return 0;  // the text is the verb's data, not a table: printed under -q too
  if (o.ids) {
    std::string s;
    for (std::size_t i = 0; i < out.size(); ++i) s += (i ? " " : "") + std::to_string(out[i]);
    fmt::print("{}\n", s);
  } else {
    fmt::print("{}\n", text);
  }
  return 0;
}

RegisterCommand reg_generate("generate", 75, [](CLI::App& app) {
  auto o = std::make_shared<GenCmd>();
  app.description("greedy text generation (checks the forward pass)");
  always(app.add_option("MODEL", o->model, "model folder")->required());
  always(app.add_option("--prompt", o->prompt, "prompt text (may be empty: start from BOS)"));
  always(app.add_option("-n", o->n, "tokens to generate")->capture_default_str());
  only_with(app.add_flag("--ids", o->ids, "print token ids (including BOS) instead of text"), mode::table);
  add_output_options(app, o->out, "the prompt, ids and text");
  set_modes(app, [o] {
    return Modes().set(mode::table, !o->out.json, "--json prints the ids and the text in one document");
  });
  return [o] { return run_generate(*o); };
});

}  // namespace

}  // namespace squint

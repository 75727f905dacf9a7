// squint tokenize MODEL_OR_TOKENIZER --text FILE: the ids a model sees for a text, through exactly the
// loader and special-token rule `eval` uses (tokenizer.model via libsentencepiece, tokenizer.json via
// core/text). The tool to reach for when an evaluation looks wrong. The text is tokenized whole and as is;
// --eval-text first applies eval's text protocol (core/eval/perplexity.h), giving the ids eval windows.
#include <fmt/core.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "eval/perplexity.h"
#include "file_source.h"
#include "input_kind.h"
#include "tokenizer_sp.h"

namespace squint {

namespace {

struct TokenizeCmd {
  std::string tokenizer, text, out;
  bool json = false, no_special = false, decode = false, eval_text = false;
};

int run_tokenize(const TokenizeCmd& o) {
  if (!o.out.empty()) check_writable_parent(o.out);
  expect_tokenizer_source(o.tokenizer);
  auto tok = load_model_tokenizer(o.tokenizer);
  const std::string text = o.eval_text ? prepare_eval_text(read_text_file(o.text)) : read_text_file(o.text);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int> ids = o.no_special ? tok->encode(text) : tok->encode_special(text);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string doc;
  if (o.json) {
    nlohmann::json j = {{"format", "squint.tokens"}, {"version", 1}, {"tokenizer", o.tokenizer},
                        {"text", o.text},            {"special", !o.no_special}, {"eval_text", o.eval_text},
                        {"ids", ids}};
    if (o.decode) {
      nlohmann::json ts = nlohmann::json::array();
      for (int id : ids) ts.push_back(tok->token_text(id));
      j["tokens"] = ts;
    }
    doc = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    doc.reserve(ids.size() * 8);
    for (int id : ids) {
      doc += std::to_string(id);
      // the token as the vocabulary spells it, JSON-quoted so spaces, newlines and bytes stay visible
      if (o.decode) doc += '\t' + nlohmann::json(tok->token_text(id)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      doc += '\n';
    }
  }
  if (o.out.empty()) {
    fmt::print("{}", doc);
  } else {
    write_file_atomic(o.out, doc);
    if (!global_options().quiet) fmt::print(stderr, "wrote {}\n", o.out);
  }
  if (!global_options().quiet)
    fmt::print(stderr, "{} ids from {} bytes in {:.3f} s ({:.0f} tokens/s)\n", ids.size(), text.size(), secs,
               secs > 0 ? static_cast<double>(ids.size()) / secs : 0.0);
  return 0;
}

RegisterCommand reg_tokenize("tokenize", 72, [](CLI::App& app) {
  auto o = std::make_shared<TokenizeCmd>();
  app.description("token ids of a text through eval's tokenizer (tokenizer.json, tokenizer.model or GGUF)");
  always(app.add_option("TOKENIZER", o->tokenizer, "model folder, tokenizer.json, tokenizer.model or GGUF file")
             ->required()
             ->type_name("PATH"));
  always(app.add_option("--text", o->text,
                        "UTF-8 text file, tokenized whole and as is (eval drops empty lines first: --eval-text)")
             ->required()
             ->type_name("FILE"));
  always(app.add_flag("--json", o->json,
                      "one JSON document {format, version, ..., ids[, tokens]} instead of one id per line"));
  always(
      app.add_flag("--no-special", o->no_special, "without the special tokens the post_processor (or BOS rule) adds"));
  always(app.add_flag("--decode", o->decode,
                      "also print each token's vocabulary string (id<TAB>\"token\"; with --json: tokens[])"));
  always(app.add_flag(
      "--eval-text", o->eval_text,
      "apply eval's text protocol first (drop empty lines, join the rest with blank lines): the ids eval windows"));
  always(app.add_option("-o", o->out, "write what would go to stdout (the ids, or the --json document) to FILE instead")
             ->type_name("FILE"));
  return [o] { return run_tokenize(*o); };
});

}  // namespace

}  // namespace squint

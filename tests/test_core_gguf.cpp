// GGUF container: writer/reader round trip of every value type, the layout rules ggml checks, and one clear
// error for every class of malformed file (truncation at every length, lying offsets, unknown types,
// overflowing counts). Core only (also runs as wasm).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "convert/gguf_llama.h"
#include "model/family.h"
#include "convert/gguf_tokenizer.h"
#include "util/error.h"
#include "io/gguf.h"
#include "quant/ggml_quants.h"

using namespace squint;

namespace {

std::vector<uint8_t> write_gguf(std::vector<GgufKV> kv, const std::vector<GgufTensorSpec>& ts, uint32_t align = 32) {
  std::vector<uint8_t> out;
  GgufStreamWriter w(std::move(kv), ts, [&](const uint8_t* p, std::size_t n) { out.insert(out.end(), p, p + n); }, align);
  for (const auto& t : ts) {
    std::vector<uint8_t> d(t.nbytes());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 7 + 1);
    w.write(d.data(), d.size());
  }
  w.finish();
  REQUIRE(out.size() == w.file_size());
  return out;
}

GgufFile gguf_parse(const std::vector<uint8_t>& b) {
  MemorySource m("t.gguf", b);
  return read_gguf(m);
}

std::string gguf_error_of(const std::vector<uint8_t>& b) {
  try {
    gguf_parse(b);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void put64(std::vector<uint8_t>& b, std::size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }
void put32(std::vector<uint8_t>& b, std::size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

// A small file: two KVs and two tensors; returns it and the byte positions of interesting fields.
std::vector<uint8_t> gguf_sample() {
  GgufValue i8v; i8v.type = GgufValueType::INT8; i8v.bits = static_cast<uint64_t>(-5);
  return write_gguf({{"general.architecture", GgufValue::string("llama")}, {"x.i8", i8v}},
                    {{"a.weight", {32, 3}, ggml_id::Q8_0}, {"b.weight", {5}, ggml_id::F32}});
}

}  // namespace

TEST_CASE("GGUF round trip: every value type, arrays, tensor infos, aligned offsets", "[gguf]") {
  GgufValue u8; u8.type = GgufValueType::UINT8; u8.bits = 200;
  GgufValue i16; i16.type = GgufValueType::INT16; i16.bits = static_cast<uint64_t>(-300);
  GgufValue f64; f64.type = GgufValueType::FLOAT64; double d = -2.5; std::memcpy(&f64.bits, &d, 8);
  GgufValue i64; i64.type = GgufValueType::INT64; i64.bits = static_cast<uint64_t>(-1234567890123ll);
  std::vector<GgufKV> kv = {{"s", GgufValue::string("héllo")}, {"u32", GgufValue::u32(4000000000u)},
                            {"i32", GgufValue::i32(-7)},        {"u64", GgufValue::u64(1ull << 40)},
                            {"f32", GgufValue::f32(0.125f)},    {"b", GgufValue::boolean(true)},
                            {"u8", u8}, {"i16", i16}, {"f64", f64}, {"i64", i64},
                            {"toks", GgufValue::strings({"a", "", "ccc"})}, {"sc", GgufValue::f32s({1.5f, -2})},
                            {"ty", GgufValue::i32s({1, 6, 3})}};
  std::vector<GgufTensorSpec> ts = {{"t0", {64, 2}, ggml_id::F32}, {"t1", {32, 3}, ggml_id::Q8_0},
                                    {"t2", {256}, 12 /* Q4_K */}, {"t3", {7}, ggml_id::F16}};
  for (uint32_t align : {32u, 64u}) {
    auto b = write_gguf(kv, ts, align);
    GgufFile g = gguf_parse(b);
    CHECK(g.version == 3);
    CHECK(g.alignment == align);
    CHECK(g.data_offset % align == 0);
    CHECK(g.find("s")->as_string("s") == "héllo");
    CHECK(g.find("u32")->as_int("u32") == 4000000000ll);
    CHECK(g.find("i32")->as_int("i32") == -7);
    CHECK(g.find("u64")->as_int("u64") == (1ll << 40));
    CHECK(g.find("f32")->as_double("f32") == 0.125);
    CHECK(g.find("b")->as_bool("b"));
    CHECK(g.find("u8")->as_int("u8") == 200);
    CHECK(g.find("i16")->as_int("i16") == -300);
    CHECK(g.find("f64")->as_double("f64") == -2.5);
    CHECK(g.find("i64")->as_int("i64") == -1234567890123ll);
    REQUIRE(g.find("toks")->arr.size() == 3);
    CHECK(g.find("toks")->arr[2].str == "ccc");
    CHECK(g.find("sc")->arr[1].as_double("") == -2.0);
    CHECK(g.find("ty")->arr[1].as_int("") == 6);
    CHECK_THROWS_WITH(g.find("s")->as_int("key s"), Catch::Contains("expected an integer"));
    REQUIRE(g.tensors.size() == 4);
    CHECK(g.tensors[1].nbytes == 3 * 34);
    CHECK(g.tensors[2].nbytes == 144);
    CHECK(g.tensors[3].nbytes == 14);
    uint64_t expect = 0;
    for (const auto& t : g.tensors) {
      CHECK(t.offset == expect);
      CHECK(t.offset % align == 0);
      expect += (t.nbytes + align - 1) / align * align;
    }
    // The data is where the offsets say: tensor t1's first byte is the pattern's first byte.
    CHECK(b[g.absolute_offset(g.tensors[1])] == 1);
    CHECK(b.size() == g.data_offset + expect);
  }
}

TEST_CASE("GGUF reader: truncation at every length is one clear error", "[gguf][hardening]") {
  auto b = gguf_sample();
  GgufFile g = gguf_parse(b);
  const uint64_t end_of_last = g.absolute_offset(g.tensors.back()) + g.tensors.back().nbytes;
  for (std::size_t n = 0; n < end_of_last; ++n) {
    std::vector<uint8_t> t(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    INFO("length " << n);
    const std::string e = gguf_error_of(t);
    CHECK_THAT(e, Catch::StartsWith("t.gguf: not a valid GGUF file:"));
    CHECK(e.find('\n') == std::string::npos);
  }
  std::vector<uint8_t> t(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(end_of_last));
  CHECK(gguf_error_of(t).empty());  // the last tensor's padding is optional
}

TEST_CASE("GGUF reader: lying offsets, sizes, types and counts", "[gguf][hardening]") {
  const auto b = gguf_sample();
  // Layout: magic 4, version 4, n_tensors 8 @8, n_kv 8 @16, then KVs.
  auto with = [&](auto f) { auto c = b; f(c); return gguf_error_of(c); };
  CHECK_THAT(with([](auto& c) { c[0] = 'X'; }), Catch::Contains("no GGUF magic"));
  CHECK_THAT(with([](auto& c) { put32(c, 4, 9); }), Catch::Contains("version 9"));
  CHECK_THAT(with([](auto& c) { put64(c, 8, ~0ull); }), Catch::Contains("tensor count"));
  CHECK_THAT(with([](auto& c) { put64(c, 16, 1ull << 62); }), Catch::Contains("metadata count"));
  CHECK_THAT(with([](auto& c) { put64(c, 24, 1ull << 40); }), Catch::Contains("claims"));  // key length
  // first KV: key len @24, key "general.architecture" (20) @32, type @52
  CHECK_THAT(with([](auto& c) { put32(c, 52, 99); }), Catch::Contains("unknown value type 99"));
  CHECK_THAT(with([](auto& c) { put64(c, 56, ~0ull); }), Catch::Contains("claims"));  // string length
  GgufFile g = gguf_parse(b);
  // Find tensor info fields by scanning for the name.
  auto find = [&](const std::string& s) {
    for (std::size_t i = 0; i + s.size() <= b.size(); ++i)
      if (std::memcmp(b.data() + i, s.data(), s.size()) == 0) return i;
    FAIL("not found");
    return std::size_t(0);
  };
  const std::size_t a = find("a.weight") + 8;  // n_dims @a, ne0 @a+4, ne1 @a+12, type @a+20, offset @a+24
  CHECK_THAT(with([&](auto& c) { put32(c, a, 5); }), Catch::Contains("5 dimensions"));
  CHECK_THAT(with([&](auto& c) { put64(c, a + 12, 1ull << 40); }), Catch::Contains("runs past the end"));
  CHECK_THAT(with([&](auto& c) { put64(c, a + 4, 1ull << 40); put64(c, a + 12, 1ull << 40); }), Catch::Contains("overflows"));
  CHECK_THAT(with([&](auto& c) { put64(c, a + 4, 33); }), Catch::Contains("not a multiple of Q8_0's block"));
  CHECK_THAT(with([&](auto& c) { put32(c, a + 20, 4); }), Catch::Contains("unknown ggml type id 4"));
  CHECK_THAT(with([&](auto& c) { put32(c, a + 20, 1000); }), Catch::Contains("unknown ggml type id 1000"));
  CHECK_THAT(with([&](auto& c) { put64(c, a + 24, 32); }), Catch::Contains("expected 0"));
  const std::size_t bb = find("b.weight") + 8;  // n_dims @bb, ne0 @bb+4, type @bb+12, offset @bb+16
  CHECK_THAT(with([&](auto& c) { put64(c, bb + 16, 0); }), Catch::Contains("expected 128"));
  CHECK_THAT(with([&](auto& c) { put64(c, bb + 4, 1000); }), Catch::Contains("runs past the end"));
  // 2^62 F32 elements are 2^64 bytes: a size that wraps to 0 must not slip past the end-of-file check (fuzz_imatrix).
  CHECK_THAT(with([&](auto& c) { put64(c, bb + 4, 1ull << 62); }), Catch::Contains("byte size overflows"));
  CHECK_THAT(with([&](auto& c) { put64(c, bb + 4, (1ull << 62) + 1); }), Catch::Contains("byte size overflows"));
  // a bad alignment value
  auto bad_align = write_gguf({{"general.alignment", GgufValue::u32(48)}}, {});
  CHECK_THAT(gguf_error_of(bad_align), Catch::Contains("not a power of two"));
  auto wrong_type_align = write_gguf({{"general.alignment", GgufValue::u64(32)}}, {});
  CHECK_THAT(gguf_error_of(wrong_type_align), Catch::Contains("expected uint32"));
  auto dup = write_gguf({{"k", GgufValue::u32(1)}, {"k", GgufValue::u32(2)}}, {});
  CHECK_THAT(gguf_error_of(dup), Catch::Contains("duplicate metadata key 'k'"));
}

TEST_CASE("Q/K permutation: convert_hf_to_gguf's row order, and its inverse", "[gguf]") {
  // 2 heads of head_dim 4, 1 column: HF rows 0..7. permute: per head [0, 2, 1, 3] (reshape(2, 2, 2).swapaxes).
  std::vector<float> hf = {0, 1, 2, 3, 4, 5, 6, 7}, p(8), back(8);
  permute_qk_rows(hf.data(), p.data(), 8, 1, 2, false);
  CHECK(p == std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7});
  permute_qk_rows(p.data(), back.data(), 8, 1, 2, true);
  CHECK(back == hf);
  // head_dim 8: [0, 4, 1, 5, 2, 6, 3, 7]
  std::vector<float> h8 = {0, 1, 2, 3, 4, 5, 6, 7}, p8(8);
  permute_qk_rows(h8.data(), p8.data(), 8, 1, 1, false);
  CHECK(p8 == std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7});
}

TEST_CASE("GGUF names: HF <-> GGUF through the family registry", "[gguf][model]") {
  const nlohmann::json llama = {{"model_type", "llama"}, {"hidden_size", 64}, {"num_hidden_layers", 2},
                                {"num_attention_heads", 4}, {"vocab_size", 32}, {"intermediate_size", 96}};
  const Family& f = family_for_config(llama, "c");
  const auto rules = f.gguf_names(f.from_config(llama, "c"));
  CHECK(gguf_name_of(rules, "model.layers.3.self_attn.o_proj.weight")->name == "blk.3.attn_output.weight");
  CHECK(gguf_name_of(rules, "model.layers.0.post_attention_layernorm.weight")->name == "blk.0.ffn_norm.weight");
  CHECK(gguf_name_of(rules, "model.embed_tokens.weight")->name == "token_embd.weight");
  CHECK(gguf_name_of(rules, "model.layers.0.self_attn.q_proj.weight")->transform == GgufTransform::PermuteQ);
  CHECK(!gguf_name_of(rules, "model.layers.1.self_attn.k_norm.weight"));  // llama has no q/k norms
  CHECK(!gguf_name_of(rules, "model.layers.1x.self_attn.o_proj.weight"));
  CHECK(hf_name_of(rules, "blk.12.ffn_down.weight")->name == "model.layers.12.mlp.down_proj.weight");
  CHECK(hf_name_of(rules, "output.weight")->name == "lm_head.weight");
  CHECK(!gguf_name_of(rules, "model.layers.0.block_sparse_moe.gate.weight"));
  nlohmann::json qwen3 = llama;
  qwen3["model_type"] = "qwen3";
  const auto q3 = f.gguf_names(f.from_config(qwen3, "c"));
  CHECK(gguf_name_of(q3, "model.layers.1.self_attn.k_norm.weight")->name == "blk.1.attn_k_norm.weight");
  CHECK(gguf_name_of(q3, "model.layers.0.self_attn.q_proj.weight")->transform == GgufTransform::None);  // NeoX RoPE
  CHECK_THROWS_WITH(family_for_config(nlohmann::json{{"model_type", "gpt2"}}, "c"), Catch::Contains("model_type 'gpt2' is not supported"));
  CHECK(f.gguf_arch(f.from_config(qwen3, "c")) == "qwen3");
  nlohmann::json mistral = llama;
  mistral["model_type"] = "mistral";
  CHECK(f.gguf_arch(f.from_config(mistral, "c")) == "llama");
  // Mixtral: experts stacked, router named ffn_gate_inp.
  nlohmann::json mixtral = llama;
  mixtral["model_type"] = "mixtral";
  mixtral["num_local_experts"] = 4;
  const Family& m = family_for_config(mixtral, "c");
  CHECK(m.name() == "mixtral");
  const auto mr = m.gguf_names(m.from_config(mixtral, "c"));
  const auto e = gguf_name_of(mr, "model.layers.1.block_sparse_moe.experts.3.w2.weight");
  REQUIRE(e);
  CHECK(e->name == "blk.1.ffn_down_exps.weight");
  CHECK(e->stacked);
  CHECK(e->expert == 3);
  const auto back = hf_name_of(mr, "blk.1.ffn_up_exps.weight");
  CHECK(back->stacked);
  CHECK(hf_expert_name(back->name, 2) == "model.layers.1.block_sparse_moe.experts.2.w3.weight");
  CHECK(gguf_name_of(mr, "model.layers.0.block_sparse_moe.gate.weight")->name == "blk.0.ffn_gate_inp.weight");
}

TEST_CASE("SentencePiece proto: malformed input is one clear error", "[gguf][hardening]") {
  CHECK_THROWS_WITH(parse_sentencepiece_model(std::string("\x0a\x05\x0a", 3), "tok"), Catch::Contains("runs past the end"));
  CHECK_THROWS_WITH(parse_sentencepiece_model(std::string("\x0b", 1), "tok"), Catch::Contains("wire type"));
  CHECK_THROWS_WITH(parse_sentencepiece_model("", "tok"), Catch::Contains("no pieces"));
  // one piece "ab", score 0.5, type 6 (byte)
  std::string piece = std::string("\x0a\x02" "ab", 4) + "\x15" + std::string("\x00\x00\x00\x3f", 4) + "\x18\x06";
  std::string m = "\x0a" + std::string(1, static_cast<char>(piece.size())) + piece;
  SpModel sp = parse_sentencepiece_model(m, "tok");
  REQUIRE(sp.pieces.size() == 1);
  CHECK(sp.pieces[0].piece == "ab");
  CHECK(sp.pieces[0].score == 0.5f);
  CHECK(sp.pieces[0].type == 6);
}

TEST_CASE("GGUF encode/decode: every quantized candidate through the ggml port, row permutation commutes with it", "[gguf]") {
  const uint64_t rows = 8, cols = 256;  // 256: every block size (32 and 256) divides the row
  std::vector<float> x(rows * cols);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + static_cast<float>(i % 7));
  for (GgmlType t : ggml_quant_types()) {
    const uint32_t id = static_cast<uint32_t>(t);
    INFO(ggml_type_info(t)->name);
    REQUIRE(gguf_type_encodable(id));
    REQUIRE(gguf_type_decodable(id));
    const uint64_t rb = gguf_row_bytes(id, cols, "t");
    REQUIRE(rb == ggml_row_bytes(t, cols));
    // IQ2_XXS, IQ2_XS and IQ1_S quantize only with importance weights (ggml refuses them without): uneven ones.
    std::vector<float> w(cols);
    for (uint64_t c = 0; c < cols; ++c) w[c] = 0.5f + static_cast<float>(c % 5);
    const float* imx = ggml_requires_imatrix(t) ? w.data() : nullptr;
    if (imx) CHECK_THROWS_WITH(gguf_encode_rows(id, x.data(), rows, cols, std::vector<uint8_t>(rows * rb).data()),
                               Catch::Contains("importance matrix"));
    std::vector<uint8_t> enc(rows * rb), want(rows * rb);
    gguf_encode_rows(id, x.data(), rows, cols, enc.data(), imx);
    ggml_quantize_rows(t, x.data(), rows, cols, want.data(), imx);
    CHECK(enc == want);
    std::vector<float> dec(x.size()), dwant(x.size());
    gguf_decode_rows(id, enc.data(), rows, cols, dec.data());
    ggml_dequantize_rows(t, want.data(), rows, cols, dwant.data());
    CHECK(dec == dwant);
    double e = 0, s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      e += (x[i] - dec[i]) * (x[i] - dec[i]);
      s += x[i] * x[i];
    }
    // a real reconstruction, not zeros (the 1- and 2-bit grids keep less: IQ1_S is near 5 dB)
    CHECK(e < (ggml_is_grid_type(t) && ggml_type_info(t)->nominal_bits <= 2 ? 0.5 : 0.1) * s);
    // Q/K permutation (2 heads of 4 rows): quantize(permute(x)) == the quantized rows of x, permuted.
    std::vector<float> px(x.size());
    permute_qk_rows(x.data(), px.data(), rows, cols, 2, false);
    std::vector<uint8_t> penc(rows * rb);
    gguf_encode_rows(id, px.data(), rows, cols, penc.data(), imx);
    const uint64_t order[] = {0, 2, 1, 3, 4, 6, 5, 7};  // permuted row r holds HF row order[r]
    for (uint64_t r = 0; r < rows; ++r)
      CHECK(std::memcmp(penc.data() + r * rb, enc.data() + order[r] * rb, rb) == 0);
  }
  // A type squint does not port is one clear error.
  std::vector<uint8_t> b(1024);
  std::vector<float> y(256);
  CHECK_FALSE(gguf_type_decodable(34));  // TQ1_0
  CHECK_THROWS_WITH(gguf_decode_rows(34, b.data(), 1, 256, y.data()), Catch::Contains("cannot read GGUF type TQ1_0"));
}

// The trap table (issue 26): the mistakes a new user makes, each with its command, the exit code it must give
// and the words its message must (and must not) contain. Before issue 26 several of these exited 0 with a wrong
// result (windows longer than the model's context, --types dropped on an MLX plan, an MLX folder named
// forgot.gguf) or failed inside the wrong parser ("header length 14064895815 exceeds the 100 MB limit").
#include <catch2/catch.hpp>
#include <filesystem>

#include "file_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {

struct Trap {
  std::string what;
  std::string args;  // after `squint`; {M} {M3} {T} {A} {AG} {P} {PG} {Q} {G} {D} are filled
  int rc;
  std::vector<std::string> contains;      // words the output (stdout + stderr) must contain
  std::vector<std::string> not_contains;  // and must not
};

const std::vector<Trap> kTraps = {
    // Windows that fit the model
    {"eval defaults to the model's context", "eval {M3} --text {T} --samples 2", 0, {"2 windows of 256 tokens"}, {}},
    {"a window beyond the context",
     "eval {M3} --text {T} --seq-len 2048",
     2,
     {"squint: error: eval: --seq-len 2048 is longer than the context of", "(256 tokens)"},
     {}},
    {"generating beyond the context",
     "generate {M3} -n 300",
     2,
     {"generate: the prompt's 1 tokens and -n 300 make 301, beyond the context of",
      "(256 tokens); give -n at most 255"},
     {}},
    // Flags that do not apply are errors
    {"--types on an MLX plan",
     "plan {M} --bpw 4.5 --types Q4_K,Q6_K",
     2,
     {"squint: error: plan: --types applies only to GGUF", "analysed here with MLX configs"},
     {}},
    {"--types on an MLX analysis",
     "plan {A} --bpw 7 --types Q4_K",
     2,
     {"plan: --types applies only to GGUF", "is an MLX analysis"},
     {}},
    {"--preset on a GGUF analysis",
     "plan {AG} --bpw 7 --preset mint8",
     2,
     {"plan: --preset applies only to MLX", "is a GGUF analysis"},
     {}},
    {"analysis options on an analysis",
     "plan {A} --bpw 7 --format gguf",
     2,
     {"plan: --format applies only when the input is a model", "analysis options belong to squint analyze"},
     {}},
    {"--calibrate on an analysis",
     "plan {A} --bpw 7 --calibrate {T}",
     2,
     {"plan: --calibrate applies only when the input is a model"},
     {}},
    {"--objective with measured selection",
     "plan {M} --bpw 7 --select-text {T} --objective mse",
     2,
     {"plan: --objective applies only without --select-text"},
     {}},
    {"--select-samples without --select-text",
     "plan {M} --bpw 7 --select-samples 4",
     2,
     {"plan: --select-samples applies only with --select-text"},
     {}},
    {"a planner flag on quantize --plan",
     "quantize {M} --plan {P} --floor 12 -o {D}/x",
     2,
     {"quantize: --floor applies only with a budget", "from --plan"},
     {}},
    {"--type on an MLX output",
     "quantize {M} --type Q8_0 -o {D}/x",
     2,
     {"quantize: --type applies only to GGUF", "this run writes an MLX folder (-o {D}/x does not end in .gguf"},
     {"of --type"}},
    {"--shard-size on a GGUF output",
     "quantize {M} --type Q8_0 --shard-size 1GB -o {D}/x.gguf",
     2,
     {"quantize: --shard-size applies only to MLX"},
     {}},
    {"two sources of a GGUF plan",
     "quantize {M} --format gguf --type Q8_0 --plan {PG} -o {D}/x.gguf",
     2,
     {"quantize: give only one of --type, --plan or a budget"},
     {}},
    {"a budget and --type",
     "quantize {M} --type Q8_0 --bpw 5 -o {D}/x.gguf",
     2,
     {"give only one of --type, --plan or a budget"},
     {}},
    {"MLX needs a plan or a budget", "quantize {M} -o {D}/x", 2, {"give either --plan plan.json or a budget"}, {}},
    {"a GGUF plan written to a folder",
     "quantize {M} --plan {PG} -o {D}/x",
     2,
     {"quantize: ", "pg.json is a GGUF plan; give -o NAME.gguf (a GGUF model is one file)"},
     {}},
    {"an MLX plan written to NAME.gguf",
     "quantize {M} --plan {P} -o {D}/x.gguf",
     2,
     {"quantize: ", "p.json is an MLX plan, but -o", "x.gguf names a GGUF file"},
     {"note"}},
    {"-o NAME.gguf with --format mlx",
     "quantize {M} --format mlx --bpw 7 -o {D}/x.gguf",
     2,
     {"quantize: -o", "x.gguf names a GGUF file, but --format mlx writes a folder"},
     {}},
    {"--format gguf with -o a folder",
     "quantize {M} --format gguf --bpw 7 -o {D}",
     2,
     {"is a folder; a GGUF model is one file"},
     {}},
    {"--seed without sampled windows",
     "eval {M} --text {T} --seed 7",
     2,
     {"eval: --seed applies only when windows are sampled", "every window is evaluated"},
     {}},
    {"--noise-like on a GGUF",
     "eval {G} --text {T} --noise-like {Q}",
     2,
     {"eval: --noise-like applies only to a safetensors model"},
     {}},
    {"drift's text options without --text",
     "drift {M} --seq-len 128",
     2,
     {"drift: --seq-len applies only with --text"},
     {}},
    {"gate --top with --json",
     "gate {M} {Q} --json --top 3",
     2,
     {"gate: --top applies only to the table", "--json prints the whole report"},
     {}},
    {"--sqnr-table with --sqnr-table-json",
     "analyze {M} --sqnr-table --sqnr-table-json",
     2,
     {"analyze: --sqnr-table applies only to the table"},
     {}},
    {"--features on a GGUF",
     "inspect {G} --features",
     2,
     {"inspect: --features applies only to a float safetensors model"},
     {}},
    {"generate --ids with --json", "generate {M} --json --ids", 2, {"generate: --ids applies only to the table"}, {}},
    {"sweep --seed with every window",
     "sweep {M} --text {T} --samples 0 --seed 3",
     2,
     {"sweep: --seed applies only when windows are sampled"},
     {}},
    {"a plan written under a model's name",
     "plan {A} --bpw 7.5 -o {D}/mix.gguf",
     2,
     {"squint: error: plan: ", "mix.gguf names a model file, but -o here writes plan.json (JSON), not a model"},
     {}},
    {"an eval result written under a model's name",
     "eval {M} --text {T} -o {D}/e.safetensors",
     2,
     {"eval: ", "e.safetensors names a model file, but -o here writes"},
     {}},
    {"a float base whose context is shorter than the model's",
     "eval {M} --text {T} --kl-base {M3} --samples 2",
     0,
     {"2 windows of 256 tokens"},
     {}},
    {"a window beyond the float base's context",
     "eval {M} --text {T} --kl-base {M3} --seq-len 512",
     2,
     {"eval: --seq-len 512 is longer than the context of", "tinystories-3M (256 tokens)"},
     {}},
    {"a measurement option on analyze --merge",
     "analyze --merge {D}/p1.json {D}/p2.json --format gguf",
     2,
     {"analyze: --format applies only when measuring a model", "--merge joins part files"},
     {}},
    {"a model and --merge", "analyze {M} --merge {D}/p1.json", 2, {"analyze: MODEL applies only when measuring"}, {}},
    {"analyze --resume without -o", "analyze {M} --resume", 2, {"analyze --resume: needs -o OUT"}, {}},
    {"analyze --part with the table",
     "analyze {M} --part 1/2 --sqnr-table",
     2,
     {"analyze --part: --sqnr-table needs the whole analysis"},
     {}},
    {"analyze --part out of range", "analyze {M} --part 4/3", 2, {"'4/3' is not K/N"}, {}},
    {"an analysis given to --merge", "analyze --merge {A}", 2, {"not a squint analysis part"}, {}},
    // Say what a file is
    {"a GGUF where a model is expected: analyze",
     "analyze {G}",
     2,
     {"is a GGUF file; analyze takes a float safetensors model (folder or .safetensors)"},
     {"header length"}},
    {"a GGUF where a model is expected: quantize",
     "quantize {G} --bpw 4 -o {D}/x",
     2,
     {"is a GGUF file; quantize takes a float safetensors model"},
     {"header length"}},
    {"a GGUF where a model is expected: plan",
     "plan {G} --bpw 4",
     2,
     {"is a GGUF file; plan takes a float safetensors model"},
     {"header length"}},
    {"a GGUF where a model is expected: imatrix",
     "imatrix {G} --text {T} -o {D}/im.gguf",
     2,
     {"is a GGUF file; imatrix takes a float safetensors model"},
     {"header length"}},
    {"an imatrix window beyond the context",
     "imatrix {M3} --text {T} --seq-len 512 -o {D}/im.gguf",
     2,
     {"squint: error: imatrix: --seq-len 512 is longer than the context of", "(256 tokens)"},
     {}},
    {"gate with the arguments swapped (GGUF)",
     "gate {G} {M}",
     2,
     {"gate:", "is a GGUF file and", "the arguments look swapped"},
     {"header length"}},
    {"gate with the arguments swapped (MLX)",
     "gate {Q} {M}",
     2,
     {"is an MLX-quantized model (", "the arguments look swapped (squint gate ORIGINAL QUANTIZED)"},
     {"logical shape"}},
    {"gate of a float model", "gate {M} {M}", 2, {"is a float model (nothing in it is quantized)"}, {}},
    {"gate of a plan given as QUANTIZED",
     "gate {M} {P}",
     2,
     {"is a squint plan (plan.json)", "a plan goes with --plan"},
     {}},
    {"an MLX-quantized model to analyze",
     "analyze {Q}",
     2,
     {"is an MLX-quantized model (", "squint dequantize makes a float one"},
     {}},
    {"a plan where an analysis is expected",
     "plan {P} --bpw 4",
     2,
     {"is a squint plan (plan.json); plan takes a model (folder or .safetensors) or an analysis.json"},
     {}},
    {"an analysis where a model is expected: eval",
     "eval {A} --text {T}",
     2,
     {"is a squint analysis (analysis.json); eval takes a model"},
     {}},
    {"a plan to compare",
     "compare {P} {P}",
     2,
     {"is a squint plan (plan.json); compare takes two squint eval results"},
     {}},
    {"a GGUF to dequantize",
     "dequantize {G} -o {D}/x",
     2,
     {"is a GGUF file; dequantize takes an MLX model folder"},
     {}},
    {"an analysis as a tokenizer",
     "tokenize {A} --text {T}",
     2,
     {"is a squint analysis (analysis.json); tokenize takes a model folder, a tokenizer.json, a tokenizer.model or a "
      "GGUF file"},
     {}},
    {"a tokenizer as a model",
     "eval {M}/tokenizer.model --text {T}",
     2,
     {"is a SentencePiece tokenizer.model; eval takes a model"},
     {}},
    {"a text file as a model",
     "inspect {T}",
     2,
     {"is neither a safetensors nor a GGUF file; inspect takes a model folder"},
     {}},
    // Flag typos
    {"a misspelt option",
     "plan {A} --budjet 2MB",
     2,
     {"squint: error: plan: unknown option --budjet (did you mean --budget?); squint plan --help lists its options"},
     {}},
    {"a misspelt option with =",
     "eval {M} --text {T} --seqlen=128",
     2,
     {"eval: unknown option --seqlen (did you mean --seq-len?)"},
     {}},
    {"a misspelt global option", "--verison", 2, {"unknown option --verison (did you mean --version?)"}, {}},
    {"a misspelt verb", "plna {A}", 2, {"squint: error: unknown verb 'plna' (did you mean plan?)"}, {}},
    {"a stray argument", "plan {A} --bpw 7 extra", 2, {"squint: error: plan: unexpected argument 'extra'"}, {}},
    {"a missing argument keeps the verb", "plan", 2, {"squint: error: plan: MODEL_OR_ANALYSIS is required"}, {}},
};

}  // namespace

TEST_CASE("trap table: each common mistake gives its exit code and says what happened", "[cli][traps]") {
  TempDir d;
  const std::string M = shared_dir() + "/models/stories260K";
  std::filesystem::create_directories(d.path / "out");
  REQUIRE(run(cli() + " -q analyze " + M + " -o " + d.str("a.json")) == 0);
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf --bits 8 -o " + d.str("ag.json")) == 0);
  REQUIRE(run(cli() + " -q plan " + d.str("a.json") + " --bpw 7 -o " + d.str("p.json")) == 0);
  REQUIRE(run(cli() + " -q plan " + d.str("ag.json") + " --min-safe -o " + d.str("pg.json")) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --plan " + d.str("p.json") + " -o " + d.str("q")) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf -o " + d.str("m.gguf")) == 0);
  const std::map<std::string, std::string> files = {{"{M3}", shared_dir() + "/models/tinystories-3M"},
                                                    {"{M}", M},
                                                    {"{T}", shared_dir() + "/data/tinystories/eval.txt"},
                                                    {"{AG}", d.str("ag.json")},
                                                    {"{A}", d.str("a.json")},
                                                    {"{PG}", d.str("pg.json")},
                                                    {"{P}", d.str("p.json")},
                                                    {"{Q}", d.str("q")},
                                                    {"{G}", d.str("m.gguf")},
                                                    {"{D}", d.str("out")}};
  for (const Trap& t : kTraps) {
    std::string out;
    const std::string cmd = cli() + " " + fill(t.args, files);
    const int rc = run(cmd, &out);
    INFO(t.what << "\n$ " << cmd << "\n-> exit " << rc << "\n" << out);
    CHECK(rc == t.rc);
    for (const auto& w : t.contains) CHECK_THAT(out, Catch::Contains(fill(w, files)));
    for (const auto& w : t.not_contains) CHECK_THAT(out, !Catch::Contains(w));
    if (t.rc == 2) {
      CHECK(std::count(out.begin(), out.end(), '\n') == 1);  // one line
      CHECK_THAT(out, Catch::StartsWith("squint: error: "));
    }
  }
  // Nothing was written by the refused runs.
  CHECK(std::filesystem::is_empty(d.path / "out"));
}

TEST_CASE("trap: quantize -o NAME.gguf writes a GGUF file, never a folder named .gguf", "[cli][traps]") {
  TempDir d;
  const std::string M = shared_dir() + "/models/stories260K";
  std::string out;
  REQUIRE(run(cli() + " quantize " + M + " --budget 250KB -o " + d.str("forgot.gguf"), &out) == 0);
  CHECK_THAT(out, Catch::Contains("ends in .gguf: writing GGUF (--format gguf)"));
  REQUIRE(std::filesystem::is_regular_file(d.str("forgot.gguf")));
  CHECK(read_text_file(d.str("forgot.gguf")).substr(0, 4) == "GGUF");
  // It is the GGUF the explicit form writes (same plan, same bytes).
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf --budget 250KB -o " + d.str("explicit.gguf")) == 0);
  CHECK(read_text_file(d.str("forgot.gguf")) == read_text_file(d.str("explicit.gguf")));
  // Negative control: without .gguf the same command writes an MLX folder.
  REQUIRE(run(cli() + " -q quantize " + M + " --budget 250KB -o " + d.str("mlx")) == 0);
  CHECK(std::filesystem::is_directory(d.str("mlx")));
}

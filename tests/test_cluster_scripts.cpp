// The cluster recipes in scripts/cluster (docs/cluster.md), run here without a cluster: the Slurm job array
// through a stand-in `sbatch` that runs each array task with the variables Slurm sets, the Kubernetes Indexed
// Job by running its pod script with every JOB_COMPLETION_INDEX; the merged analysis must be the bytes of one
// `squint analyze` run.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

#include "file_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {
std::string scripts() { return std::string(SQUINT_SOURCE_DIR) + "/scripts/cluster"; }

// A stand-in for sbatch: `--array=A-B SCRIPT ARGS` runs SCRIPT once per task, last task first, with the
// SLURM_ARRAY_* variables of a real array; `--dependency=... SCRIPT ARGS` runs SCRIPT. Prints a job id.
const char* kFakeSbatch = R"(#!/bin/bash
set -euo pipefail
array= ; dep=
while [[ $1 == --* ]]; do
  case $1 in --array=*) array=${1#--array=} ;; --dependency=*) dep=${1#--dependency=} ;; esac
  shift
done
script=$1; shift
echo "sbatch $array $dep $script" >> "$FAKE_SLURM_LOG"
if [[ -n $array ]]; then
  a=${array%-*}; b=${array#*-}
  for ((i = b; i >= a; i--)); do
    SLURM_ARRAY_JOB_ID=100 SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_MIN=$a SLURM_ARRAY_TASK_MAX=$b \
      SLURM_ARRAY_TASK_COUNT=$((b - a + 1)) SLURM_CPUS_PER_TASK=2 bash "$script" "$@" >> "$FAKE_SLURM_LOG" 2>&1
  done
  echo 100
else
  [[ $dep == afterok:100 ]] || { echo "merge does not wait for the array" >&2; exit 1; }
  bash "$script" "$@" >> "$FAKE_SLURM_LOG" 2>&1
  echo 101
fi
)";
}  // namespace

TEST_CASE("cluster recipes: a Slurm job array and a Kubernetes Indexed Job merge into one run's analysis",
          "[parts][cluster]") {
  TempDir d;
  const std::string model = d.str("m");
  REQUIRE(run(cli() + " -q synth " + model + " --preset moe") == 0);
  REQUIRE(run(cli() + " -q analyze " + model + " --format gguf -o " + d.str("single.json")) == 0);
  const std::string ref = read_text_file(d.str("single.json"));
  fs::create_directories(d.path / "bin");
  write_text(d.path / "bin/sbatch", kFakeSbatch);
  fs::permissions(d.path / "bin/sbatch", fs::perms::owner_all);
  const std::string env =
      "PATH=" + d.str("bin") + ":$PATH SQUINT=" + cli() + " FAKE_SLURM_LOG=" + d.str("slurm.log") + " ";
  std::string log;

  SECTION("Slurm: submit.sh submits the array (1-based) and the merge after it") {
    REQUIRE(run(env + "bash " + scripts() + "/slurm/submit.sh 3 " + model + " " + d.str("out") + " --format gguf",
                &log) == 0);
    INFO(log << read_text_file(d.str("slurm.log")));
    CHECK_THAT(log, Catch::Contains("job array 100 (3 parts)"));
    CHECK(read_text_file(d.str("out/analysis.json")) == ref);
    for (int k = 1; k <= 3; ++k) CHECK_FALSE(fs::exists(d.str("out/part-" + std::to_string(k) + "-of-3.json.journal")));
  }
  SECTION("Slurm: a 0-based array, one task killed and requeued; a stepped array is refused") {
    const std::string task = "SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=6 SLURM_ARRAY_TASK_COUNT=7 ";
    for (int i = 0; i < 7; ++i) {
      const std::string cmd = env + task + "SLURM_ARRAY_TASK_ID=" + std::to_string(i) + " bash " + scripts() +
                              "/slurm/analyze.sbatch " + model + " " + d.str("out") + " --format gguf";
      if (i == 3) {  // preempted after one tensor: the requeued task resumes from its journal
        CHECK(run("SQUINT_TEST_KILL_AFTER_TENSORS=1 " + cmd) == 137);
        CHECK(fs::exists(d.str("out/part-4-of-7.json.journal")));
      }
      REQUIRE(run(cmd, &log) == 0);
    }
    REQUIRE(run(env + "sh " + scripts() + "/merge.sh " + d.str("out") + " 7", &log) == 0);
    CHECK(read_text_file(d.str("out/analysis.json")) == ref);
    CHECK(run(env +
                  "SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=7 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_ID=3 bash " +
                  scripts() + "/slurm/analyze.sbatch " + model + " " + d.str("out2"),
              &log) == 2);
    CHECK_THAT(log, Catch::Contains("one contiguous range"));
  }
  SECTION("Kubernetes: every JOB_COMPLETION_INDEX of the Indexed Job, then the merge job's command") {
    // The manifest's own numbers and names: Indexed, completions = PARTS, the pod runs analyze-part.sh.
    const std::string job = read_text_file(scripts() + "/k8s/analyze-job.yaml");
    std::smatch m;
    REQUIRE(std::regex_search(job, m, std::regex(R"(completions:\s*(\d+))")));
    const std::string completions = m[1];
    REQUIRE(std::regex_search(job, m, std::regex(R"re(name: PARTS\s*\n\s*value:\s*"(\d+)")re")));
    CHECK(m[1] == completions);
    CHECK(std::regex_search(job, std::regex(R"(completionMode:\s*Indexed)")));
    CHECK_THAT(job, Catch::Contains("/scripts/analyze-part.sh"));
    const std::string merge_job = read_text_file(scripts() + "/k8s/merge-job.yaml");
    CHECK_THAT(merge_job, Catch::Contains("\"/scripts/merge.sh\", \"/out/llama-3.1-70b\", \"" + completions + "\""));

    const std::string pod = env + "PARTS=3 MODEL=" + model + " OUT_DIR=" + d.str("out") +
                            " ANALYZE_OPTIONS='--format gguf' THREADS=2 JOB_COMPLETION_INDEX=";
    for (int i : {2, 0, 1})
      REQUIRE(run(pod + std::to_string(i) + " sh " + scripts() + "/k8s/analyze-part.sh", &log) == 0);
    CHECK(run(pod + "3 sh " + scripts() + "/k8s/analyze-part.sh", &log) == 2);  // completions and PARTS disagree
    CHECK_THAT(log, Catch::Contains("completions and PARTS must agree"));
    REQUIRE(run(env + "sh " + scripts() + "/merge.sh " + d.str("out") + " 3", &log) == 0);
    CHECK(read_text_file(d.str("out/analysis.json")) == ref);
    // Negative control: with a part missing, the merge refuses and writes nothing.
    fs::remove(d.str("out/analysis.json"));
    fs::remove(d.str("out/part-2-of-3.json"));
    CHECK(run(env + "sh " + scripts() + "/merge.sh " + d.str("out") + " 3", &log) == 2);
    CHECK_THAT(log, Catch::Contains("part 2/3 is missing"));
    CHECK_FALSE(fs::exists(d.str("out/analysis.json")));
  }
}

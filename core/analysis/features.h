#pragma once
// Data-free sensitivity features of one 2-D weight (method.md §5): spectral shape from a seeded randomized
// SVD, per-group kurtosis statistics, and norm-guided output-noise amplification of the 4-bit g64 residual.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/dtype.h"

namespace squint {

struct FeatureOptions {
  int max_rank = 256;        // k = min(256, rows, cols)
  int power_iterations = 2;
  int probes = 32;
  int kurtosis_group = 128;
  uint64_t seed = 42;
};

// w: [rows, cols] row-major (out, in). gamma: the weight of the norm feeding this linear (cols values), or
// nullptr for γ = 1. sdt: dtype of scales/biases for the 4-bit residual.
nlohmann::json compute_features(const float* w, uint64_t rows, uint64_t cols, const float* gamma, DType sdt,
                                const FeatureOptions& opt = {});

// Percentile p ∈ [0, 1] with linear interpolation between order statistics (0 for no values).
double percentile(std::vector<double> v, double p);

// Excess kurtosis (m4/m2² − 3) of each group of min(group, cols) consecutive elements of each row, row by
// row; constant groups give 0. outlier_groups (optional) counts groups with an element beyond 3σ of its mean.
std::vector<double> group_excess_kurtosis(const float* w, uint64_t rows, uint64_t cols, int group,
                                          uint64_t* outlier_groups = nullptr);

}  // namespace squint

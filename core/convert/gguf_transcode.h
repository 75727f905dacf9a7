#pragma once
// `squint convert-gguf MLX_DIR -o OUT.gguf`: an MLX (mlx-lm) affine-quantized llama-family model as a GGUF
// file without a second rounding where GGUF can hold MLX's numbers. MLX stores w = scale·q + bias per group
// of 32/64/128 with q of `bits` bits and scale/bias in F16/BF16; ggml's Q4_1 and Q5_1 store, per 32-block,
// x = d·q + m with d, m in F16 and q of 4/5 bits. So a 4-bit (5-bit) MLX tensor becomes Q4_1 (Q5_1) by
// copying codes and parameters, block for block (a g64/g128 group repeats its scale/bias in each of its
// 32-blocks), and both dequantize to the same float32 values — provided scale and bias are exactly F16
// values (always for F16 scales; BF16 or F32 ones are checked per block). A block that is not is requantized
// with ggml's quantize_row_q4_1/q5_1 from the MLX values and counted. Tensors of other widths have no
// lossless target (Q8_0 has no bias) and are requantized from their MLX values: 8-bit -> Q8_0, 6-bit ->
// Q6_K, 3-bit -> Q3_K, 2-bit -> Q2_K (K types where rows are a multiple of 256, else Q8_0 for 6-bit and
// Q4_0 for 2/3-bit); float tensors keep their dtype (1-D ones F32, as the converter writes them).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "convert/gguf_llama.h"
#include "io/mlx_model.h"

namespace squint {

// One 32-block of MLX codes (values < 2^bits, bits 4 or 5) with its scale and bias as float32 -> a Q4_1
// (bits 4, 20 bytes) or Q5_1 (bits 5, 24 bytes) block. False (nothing written) when scale or bias is not
// exactly an F16 value.
bool mlx_block_to_ggml(const uint8_t* codes, float scale, float bias, int bits, uint8_t* out);

struct TranscodeTensor {
  std::string name, gguf_name;
  std::string source;        // "4/64" (MLX bits/group) or the float dtype ("F16")
  uint32_t type = 0;         // ggml type written
  bool copied = false;       // 4/5-bit: blocks copied (those not representable in F16 requantized)
  bool lossless = false;     // measured: every value dequantizes to the MLX value bit for bit
  uint64_t params = 0, blocks = 0;
  uint64_t requantized_blocks = 0;  // all of them for a tensor with no lossless form
  double sqnr_db = 0;        // of the written values vs the MLX values (+inf when equal)
};

struct TranscodeReport {
  std::vector<TranscodeTensor> tensors;
  uint64_t file_bytes = 0, tensor_bytes = 0;
};

// The GGUF layout of an MLX model: gguf_llama_layout over its logical tensors (HF names and shapes), each
// with the type described above. `logical` receives the checkpoint of logical tensors the layout refers to.
GgufModelLayout gguf_transcode_layout(const MlxModel& m, Checkpoint& logical);

// Streams the file (tokenizer keys in `extra_kv`) and reports per tensor what was copied and requantized.
TranscodeReport stream_gguf_transcode(const MlxModel& m, const GgufModelLayout& L, const std::vector<GgufKV>& extra_kv,
                                      const ByteSink& sink,
                                      const std::function<void(uint64_t, uint64_t, const std::string&)>& progress = {});

}  // namespace squint

#pragma once
// The window length of every verb that windows text — eval, sweep, drift, plan --select-text, analyze
// --calibrate — decided in one place, so that they agree on a model: by default the model's context length
// capped at kSeqLenCap; a longer window is refused (a model evaluated beyond the context it was trained for
// gives a perplexity that means nothing: tinystories-3M, context 256, scored median PPL 76.1 on windows of
// 2048 against 9.04 on its own 256).
#include <string>

namespace squint {

// 2048: the published protocol's window (the method spec, method.md §6: "2048 published; smaller for small models"),
// and eval's default before the context was read, so a model with a long context evaluates as it always did.
inline constexpr int kSeqLenCap = 2048;

// The default window for a model of `context_length` tokens (0 = not stated: the cap). `cap` is kSeqLenCap
// except where a reference tool fixes another (imatrix: llama-imatrix's chunk of 512).
int default_seq_len(int context_length, int cap = kSeqLenCap);

// The window to use: `requested` (0 = the default), refused with one line naming both numbers when it is
// longer than the model's context; `flag` and `model` name them in the message.
int resolve_seq_len(int requested, int context_length, const std::string& flag, const std::string& model,
                    int cap = kSeqLenCap);

}  // namespace squint

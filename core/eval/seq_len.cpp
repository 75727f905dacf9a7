#include "eval/seq_len.h"

#include <algorithm>

#include "util/error.h"

namespace squint {

int default_seq_len(int context_length, int cap) { return context_length > 0 ? std::min(context_length, cap) : cap; }

int resolve_seq_len(int requested, int context_length, const std::string& flag, const std::string& model, int cap) {
  if (requested < 0) fail(flag + " must be positive (or 0 for the default)");
  if (requested == 0) return default_seq_len(context_length, cap);
  if (context_length > 0 && requested > context_length)
    fail(flag + " " + std::to_string(requested) + " is longer than the context of " + model + " (" +
         std::to_string(context_length) + " tokens); give at most " + std::to_string(context_length) + ", or leave " +
         flag + " out for " + std::to_string(default_seq_len(context_length, cap)));
  return requested;
}

}  // namespace squint

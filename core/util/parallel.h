#pragma once
// core/ owns no threads: callers that have them (native/) pass a ParallelFor; the default runs serially.
// Work must be split by the callee in a way that does not depend on the thread count, so that results are
// bit-identical whatever runs them (native threads, a single wasm worker).
#include <cstddef>
#include <functional>

namespace squint {

using ParallelFor = std::function<void(std::size_t n, const std::function<void(std::size_t)>& body)>;

inline void serial_for(std::size_t n, const std::function<void(std::size_t)>& body) {
  for (std::size_t i = 0; i < n; ++i) body(i);
}

inline ParallelFor serial() { return serial_for; }

}  // namespace squint

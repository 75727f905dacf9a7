#pragma once
// One error type for the whole core. Messages are single lines that name the file and, where there is
// one, the tensor: they are shown to users verbatim (CLI stderr, page error box).
#include <stdexcept>
#include <string>

namespace squint {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// A valid request that the input cannot satisfy (e.g. budget below the smallest safe size).
class InfeasibleError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] inline void fail(const std::string& msg) { throw Error(msg); }

}  // namespace squint

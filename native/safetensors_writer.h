#pragma once
// Streams one safetensors file: header first (offsets known from the specs), then each tensor's bytes in
// order. Short writes and disk-full are errors; the caller writes inside an AtomicDir.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace squint {

class SafetensorsWriter {
 public:
  // `shown_as` names the file in error messages (default `path`): the name the user will see, e.g. OUT/NAME
  // for a file written inside an AtomicDir's hidden temporary folder.
  SafetensorsWriter(const std::string& path, const std::vector<TensorSpec>& tensors,
                    const std::map<std::string, std::string>& metadata, const std::string& shown_as = "");
  ~SafetensorsWriter();
  // Appends bytes of the current tensor (a tensor may be written in several calls).
  void write(const void* data, std::size_t n);
  void finish();  // checks every byte was written, flushes and closes

 private:
  std::string path_;  // as shown in messages
  std::FILE* f_ = nullptr;
  uint64_t expected_ = 0, written_ = 0;
};

}  // namespace squint

#pragma once
// What the evaluator needs from a tokenizer; implementations: SentencePiece (native/tokenizer_sp.*).
#include <memory>
#include <string>
#include <vector>

namespace squint {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int> encode(const std::string& text) const = 0;  // no BOS
  virtual std::string decode(const std::vector<int>& ids) const = 0;
  virtual int bos_id() const = 0;
  bool add_bos = true;
};

}  // namespace squint

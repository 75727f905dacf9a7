#pragma once
// tokenizer.json "added_tokens": literal strings cut out of the text before the model sees it, matched
// leftmost-longest (a byte trie, as the library's Aho-Corasick LeftmostLongest), with the flags
// lstrip / rstrip (swallow whitespace around) and single_word (only between non-word characters).
#include <string>
#include <string_view>
#include <vector>

#include "text/pipeline.h"

namespace squint::text {

struct AddedToken {
  std::string content;
  int id = -1;
  bool special = false, normalized = true, lstrip = false, rstrip = false, single_word = false;
};

class AddedMatcher {
 public:
  void add(const AddedToken& t);
  bool empty() const { return tokens_.empty(); }
  // Splits `s` into unmatched text pieces and token pieces; `at_start` marks whether s begins the text.
  void split(const std::string& s, bool at_start, std::vector<Piece>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> next;  // sorted by byte
    int token = -1;                                    // index into tokens_ when a token ends here
  };
  int child(int node, unsigned char b) const;
  std::vector<Node> nodes_{Node{}};
  std::vector<AddedToken> tokens_;
};

}  // namespace squint::text

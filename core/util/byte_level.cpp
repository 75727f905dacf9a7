#include "util/byte_level.h"

#include <algorithm>
#include <iterator>

namespace squint {

namespace {
struct ByteMap {
  std::string fwd[256];
  int back[0x200];
  ByteMap() {
    std::fill(std::begin(back), std::end(back), -1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const int cp = printable ? b : 256 + n++;
      // Code points below 0x200: one byte (ASCII) or two in UTF-8.
      fwd[b] = cp < 0x80 ? std::string(1, static_cast<char>(cp))
                         : std::string{static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      back[cp] = b;
    }
  }
};
const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}
}  // namespace

const std::string& byte_level_char(unsigned char b) { return byte_map().fwd[b]; }
int byte_level_byte(uint32_t cp) { return cp < 0x200 ? byte_map().back[cp] : -1; }

std::string byte_level_encode(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) out += byte_level_char(c);
  return out;
}

}  // namespace squint

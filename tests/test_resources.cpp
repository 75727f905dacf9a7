// Peak memory of analysis does not grow with the model: a checkpoint several times larger than the
// allowed peak RSS is analysed within it. (Not compiled into sanitizer builds, whose shadow memory and
// quarantine make RSS meaningless; the normal suite always runs it.)
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace squint::test;

// GCC defines __SANITIZE_ADDRESS__; clang (the CI sanitizer build) answers __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define SQUINT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SQUINT_TEST_ASAN 1
#endif
#endif

#if !defined(SQUINT_TEST_ASAN)
TEST_CASE("analysis of a 450 MB checkpoint stays under 120 MB peak RSS", "[hardening][slow]") {
  TempDir d;
  REQUIRE(run(cli() + " -q synth " + d.str("m") + " --preset llama3-8b --layers 1 --vocab 1024") == 0);
  std::string out;
  // /usr/bin/time reports the child's peak RSS in KiB (format %M).
  REQUIRE(run("/usr/bin/time -f 'peak_rss_kb=%M' " + cli() + " -q analyze " + d.str("m") + " -o " + d.str("a.json"), &out) == 0);
  auto p = out.find("peak_rss_kb=");
  REQUIRE(p != std::string::npos);
  const long kb = std::stol(out.substr(p + 12));
  INFO("peak RSS " << kb / 1024 << " MB for a " << 452 << " MB checkpoint");
  CHECK(kb < 120 * 1024);
}
#endif

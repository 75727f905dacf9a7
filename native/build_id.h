#pragma once
// Which squint made a file: the version and the git commit it was built from ("0.1+1a2b3c4d5e6f", with
// "-dirty" for uncommitted changes). Partial outputs (analysis parts, resume journals) record it, and only
// the same build may join them: another build may measure other numbers.
#include <string>

namespace squint {

std::string squint_build_id();

}  // namespace squint

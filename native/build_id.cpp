#include "build_id.h"

#include "squint_build_id.h"  // generated at every build by cmake/build_id.cmake

namespace squint {

std::string squint_build_id() { return SQUINT_BUILD_ID; }

}  // namespace squint

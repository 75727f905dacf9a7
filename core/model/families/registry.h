#pragma once
// Every family squint knows, for the registry in model/family.cpp (an explicit list: a static library drops
// self-registering objects nothing references).
#include "model/family.h"

namespace squint::families {

const Family& llama_family();    // llama, mistral, qwen2, qwen3
const Family& mixtral_family();  // mixtral

}  // namespace squint::families

#pragma once
// Every family squint knows, for the registry in model/family.cpp (an explicit list: a static library drops
// self-registering objects nothing references).
#include "model/family.h"

namespace squint::families {

const Family& llama_family();    // llama, mistral, qwen2, qwen3
const Family& mixtral_family();  // mixtral
const Family& qwen2_moe_family();  // qwen2_moe
const Family& qwen3_moe_family();  // qwen3_moe
const Family& gemma2_family();     // gemma2
const Family& gemma3_family();     // gemma3_text, gemma3 (its text model)
const Family& phi3_family();       // phi3

}  // namespace squint::families

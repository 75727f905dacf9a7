#include "command.h"

namespace squint {

std::vector<Command>& command_registry() {
  static std::vector<Command> r;
  return r;
}

GlobalOptions& global_options() {
  static GlobalOptions g;
  return g;
}

}  // namespace squint

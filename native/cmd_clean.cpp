// squint clean DIR: removes the temporary files and folders (".NAME.tmp-PID-*") that killed squint runs
// left in DIR. Temporaries of runs still in progress (their pid is alive) are left alone.
#include <fmt/core.h>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "file_source.h"
#include "output.h"
#include "util/error.h"

namespace squint {

namespace {

struct CleanCli {
  std::string dir;
};

int run_clean(const CleanCli& o) {
  if (!is_directory(o.dir)) fail(o.dir + ": not a folder");
  const auto removed = remove_stale_temporaries(o.dir);
  if (!global_options().quiet)  // the list is for people; -q removes silently
    for (const auto& r : removed) fmt::print("removed {}\n", r);
  note(fmt::format("{} stale temporar{} removed from {}", removed.size(), removed.size() == 1 ? "y" : "ies", o.dir));
  return 0;
}

RegisterCommand reg_clean("clean", 90, [](CLI::App& app) {
  auto o = std::make_shared<CleanCli>();
  app.description("remove the temporary outputs that killed runs left in a folder");
  always(app.add_option("DIR", o->dir, "folder that holds the outputs (e.g. where quantize -o wrote)")->required());
  return [o] { return run_clean(*o); };
});

}  // namespace

}  // namespace squint

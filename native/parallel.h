#pragma once
// Threads for core's ParallelFor: a persistent pool, work handed out by an atomic counter.
#include "util/parallel.h"

namespace squint {

// threads <= 0: all hardware threads. The returned function is safe to call from one thread at a time; called
// again from inside a loop body (of any pool) it runs that inner loop inline on the calling thread.
ParallelFor make_thread_pool(int threads);
int default_threads();

}  // namespace squint

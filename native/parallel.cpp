#include "parallel.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace squint {

int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

namespace {

// Set while this thread runs a loop body of any pool: a loop started from inside one (a StoredLinear's tiles
// inside an evaluation window that already has its thread) runs inline, since the threads are all busy and
// waiting on them from one of them would deadlock.
thread_local bool t_in_pool_body = false;

class Pool {
 public:
  explicit Pool(int n) {
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void run(std::size_t n, const std::function<void(std::size_t)>& body) {
    if (n == 0) return;
    if (workers_.empty() || n == 1 || t_in_pool_body) {
      for (std::size_t i = 0; i < n; ++i) body(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      body_ = &body;
      n_ = n;
      next_.store(0);
      active_ = workers_.size();
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    work();
    std::unique_lock<std::mutex> lk(m_);
    done_cv_.wait(lk, [this] { return active_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    const bool outer = t_in_pool_body;
    t_in_pool_body = true;
    for (;;) {
      std::size_t i = next_.fetch_add(1);
      if (i >= n_) break;
      try {
        (*body_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m_);
        if (!error_) error_ = std::current_exception();
        next_.store(n_);
      }
    }
    t_in_pool_body = outer;
  }
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lk(m_);
      if (--active_ == 0) done_cv_.notify_all();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(std::size_t)>* body_ = nullptr;
  std::size_t n_ = 0;
  std::atomic<std::size_t> next_{0};
  std::size_t active_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace

ParallelFor make_thread_pool(int threads) {
  if (threads <= 0) threads = default_threads();
  auto pool = std::make_shared<Pool>(threads);
  return [pool](std::size_t n, const std::function<void(std::size_t)>& body) { pool->run(n, body); };
}

}  // namespace squint

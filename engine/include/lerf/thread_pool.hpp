// A persistent pool of worker threads, created once and reused for every frame.
// parallel_for splits [0, n) into contiguous chunks; each index is processed by exactly
// one thread and the result never depends on the thread count.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lerf {

class ThreadPool {
 public:
  // threads = 0: one per hardware thread.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over chunks of [0, n) on all threads (the caller included) and
  // returns when all are done. Not reentrant: one parallel_for at a time per pool.
  void parallel_for(int n, const std::function<void(int, int)>& fn, int min_chunk = 1);

 private:
  void worker_loop();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int, int)>* task_ = nullptr;
  int n_ = 0, chunk_ = 1, next_ = 0, active_ = 0;
  unsigned generation_ = 0;
  bool stop_ = false;
  std::mutex call_mutex_;  // serialises callers sharing one pool
};

}  // namespace lerf

#include "lerf/thread_pool.hpp"

#include <algorithm>

namespace lerf {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop() {
  unsigned seen = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    while (next_ < n_) {
      int begin = next_;
      int end = std::min(n_, begin + chunk_);
      next_ = end;
      ++active_;
      lock.unlock();
      (*task_)(begin, end);
      lock.lock();
      --active_;
    }
    if (active_ == 0) done_.notify_all();
  }
}

void ThreadPool::parallel_for(int n, const std::function<void(int, int)>& fn, int min_chunk) {
  if (n <= 0) return;
  std::lock_guard call_lock(call_mutex_);
  int threads = size();
  // A few chunks per thread balance uneven rows without much scheduling overhead.
  int chunk = std::max(min_chunk, (n + threads * 4 - 1) / (threads * 4));
  if (threads == 1 || n <= chunk) {
    fn(0, n);
    return;
  }
  std::unique_lock lock(mutex_);
  task_ = &fn;
  n_ = n;
  chunk_ = chunk;
  next_ = 0;
  ++generation_;
  wake_.notify_all();
  while (next_ < n_) {
    int begin = next_;
    int end = std::min(n_, begin + chunk_);
    next_ = end;
    ++active_;
    lock.unlock();
    fn(begin, end);
    lock.lock();
    --active_;
  }
  done_.wait(lock, [&] { return active_ == 0; });
  task_ = nullptr;
  n_ = 0;
}

}  // namespace lerf

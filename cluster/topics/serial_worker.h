// SerialWorker: one thread that runs posted jobs one at a time, in the order
// they were posted (a strand with a thread of its own). The topic controller
// and the reconciler each own one, so their disk work never runs on an io
// thread.
//
// Thread-safety: post() and stop() from any thread but the worker's own
// (stop() from the worker would join itself).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace millrace::cluster {

class SerialWorker {
 public:
  SerialWorker() = default;
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;
  ~SerialWorker() { stop(); }

  void start() {
    std::lock_guard l(mu_);
    if (thread_.joinable() || stopped_) return;
    thread_ = std::thread([this] { run(); });
  }

  // False (and `job` is dropped) once stop() was called.
  bool post(std::function<void()> job) {
    std::lock_guard l(mu_);
    if (stopped_) return false;
    jobs_.push_back(std::move(job));
    cv_.notify_one();
    return true;
  }

  // Runs the jobs already posted, then joins the thread.
  void stop() {
    {
      std::lock_guard l(mu_);
      stopped_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable())
      thread_.join();
    else
      run();  // never started: the posted jobs run here
  }

  bool on_worker() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void run() {
    std::unique_lock l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return stopped_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopped and drained
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      l.unlock();
      job();
      l.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  bool stopped_ = false;                    // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace millrace::cluster

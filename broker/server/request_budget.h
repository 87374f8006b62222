// RequestBudget: the broker-wide memory budget for request bytes in flight
// (queued.max.request.bytes; REVIEW C13; Redpanda's kafka request memory
// semaphore). A connection acquires a request's frame size after reading its
// size prefix and before reading the body; the Units it gets back are held by
// the request's response slot and returned when the response has been written
// (or dropped). While the budget is spent, acquire() parks the connection's
// coroutine: it stops reading, so backpressure falls to the client's TCP
// window; it is never an error and never blocks an io thread.
//
// Rules:
//   - FIFO: a waiter is granted only after every earlier waiter, so a large
//     request is not starved by a stream of small ones.
//   - Clamping: a request larger than the whole budget takes the whole budget
//     (it waits until nothing else is held), so it is served, one at a time,
//     and never waits for units that cannot exist.
//   - capacity <= 0 means unbounded: acquire() grants at once and holds nothing.
// No holder waits for the budget while it blocks a release other than its own
// connection's later requests, whose earlier responses complete independently
// of the budget, so the budget cannot deadlock (request_budget_test.cc).
//
// Thread-safety: acquire, release and cancel may run on any thread; a grant
// resumes the waiting coroutine on its own executor.
#pragma once

#include <utility>  // before awaitable.hpp (Boost 1.74)
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace millrace::broker {

class RequestBudget {
 public:
  // Units held from the budget; returned when destroyed (move-only).
  class Units {
   public:
    Units() = default;
    Units(RequestBudget* budget, int64_t n) : budget_(budget), n_(n) {}
    Units(Units&& o) noexcept : budget_(std::exchange(o.budget_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    Units& operator=(Units&& o) noexcept {
      if (this != &o) {
        reset();
        budget_ = std::exchange(o.budget_, nullptr);
        n_ = std::exchange(o.n_, 0);
      }
      return *this;
    }
    Units(const Units&) = delete;
    Units& operator=(const Units&) = delete;
    ~Units() { reset(); }
    int64_t size() const { return n_; }
    void reset() {
      if (budget_ && n_ > 0) budget_->release(n_);
      budget_ = nullptr;
      n_ = 0;
    }

   private:
    RequestBudget* budget_ = nullptr;
    int64_t n_ = 0;
  };

  // One parked acquire(); the caller may cancel() it (e.g. its connection
  // closes). Its outcome is set on its own executor (posted from whichever
  // thread granted or cancelled it), which then wakes the parked coroutine
  // by cancelling `timer`: the pattern of cluster::AckWait (cluster/partition/partition.h).
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& ex) : executor(ex), timer(ex) {}
    int64_t n = 0;
    boost::asio::any_io_executor executor;
    boost::asio::steady_timer timer;  // touched only on `executor`
    bool done = false;                // on `executor`
    bool granted = false;             // on `executor`
  };

  explicit RequestBudget(int64_t capacity) : capacity_(capacity), available_(capacity) {}
  RequestBudget(const RequestBudget&) = delete;
  RequestBudget& operator=(const RequestBudget&) = delete;

  int64_t capacity() const { return capacity_; }
  bool bounded() const { return capacity_ > 0; }
  // Units of min(bytes, capacity), or granted=false and no units when
  // cancelled; `waited` says whether it had to park. `*parked` points at the
  // waiter while the call is parked (null otherwise), for cancel().
  struct Grant {
    bool granted = false;
    bool waited = false;
    Units units;
  };
  boost::asio::awaitable<Grant> acquire(int64_t bytes, std::shared_ptr<Waiter>* parked = nullptr);
  // Takes the units now if no one is waiting and they are free.
  bool try_acquire(int64_t n);
  void release(int64_t n);
  // Resumes a parked waiter with granted=false; no effect if it was granted already.
  void cancel(const std::shared_ptr<Waiter>& w);
  // Cancels every parked waiter (the server's destructor).
  void cancel_all();

  int64_t in_use() const;
  size_t waiting() const;
  // Called with +n when units are granted and -n when released (a gauge);
  // set before use, runs under the budget's lock: must not call back.
  std::function<void(int64_t delta)> on_change;

 private:
  // Any thread: posts the outcome to the waiter's executor.
  static void wake(const std::shared_ptr<Waiter>& w, bool granted);
  // Under mu_: pops the waiters that now fit, in order, into `out`.
  void grant_locked(std::vector<std::shared_ptr<Waiter>>& out);

  const int64_t capacity_;
  mutable std::mutex mu_;
  int64_t available_;                          // GUARDED_BY(mu_)
  std::deque<std::shared_ptr<Waiter>> queue_;  // GUARDED_BY(mu_), FIFO
};

}  // namespace millrace::broker

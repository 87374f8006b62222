// Fault injection for the operator's crash tests: makes the process die the
// way `kill -9` would, at a chosen point inside a reconcile, so a test can
// check that a restarted operator converges with no duplicate or conflicting
// action. Inert unless the environment asks for it.
//
//   MILLRACE_OPERATOR_FAULT=exit-after-writes:N[:Kind]
//
//     N     1..1000: the process calls _exit(kFaultExitCode) right after the
//           API server answered the N-th write (create, apply, patch, update,
//           delete; Events included) made by ONE reconcile pass.
//     Kind  Millrace, Topic or Rebalance: count only reconciles of that kind
//           (default: all). Writes outside a reconcile (the leader Lease) never count,
//           and a pass that makes fewer than N writes resets the count.
//
// No destructor, no flush, no lease release: like a crash. Thread-safe: the
// workers of both controllers call in at once.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace millrace::op {

inline constexpr const char* kFaultEnv = "MILLRACE_OPERATOR_FAULT";
inline constexpr int kFaultExitCode = 86;

struct FaultPlan {
  int exit_after_writes = 0;  // 0: never
  std::string kind;           // "" = any kind
};

// Parses the variable's value; "" is the inert plan. Errors are messages.
struct FaultParse {
  FaultPlan plan;
  std::string error;
};
FaultParse parse_fault_plan(const std::string& text);

class FaultInjector {
 public:
  // `die` is what happens at the fault (default: log to stderr and _exit).
  explicit FaultInjector(FaultPlan plan, std::function<void(const std::string& why)> die = {});

  bool armed() const { return plan_.exit_after_writes > 0; }

  // While alive, writes made by the calling thread belong to one reconcile of `kind`.
  class Scope {
   public:
    Scope(FaultInjector* f, std::thread::id t) : f_(f), t_(t) {}
    Scope(Scope&& o) noexcept : f_(o.f_), t_(o.t_) { o.f_ = nullptr; }
    Scope(const Scope&) = delete;
    ~Scope();

   private:
    FaultInjector* f_;
    std::thread::id t_;
  };
  Scope reconciling(const std::string& kind);

  // Called after every API write (KubeClient's WriteObserver).
  void after_write(const std::string& verb, const std::string& resource);

 private:
  FaultPlan plan_;
  std::function<void(const std::string&)> die_;
  std::mutex mu_;
  std::map<std::thread::id, int> writes_;  // GUARDED_BY(mu_): threads in a counted reconcile
};

}  // namespace millrace::op

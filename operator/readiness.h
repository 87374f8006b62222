// What /readyz answers. A replica is ready when the process is healthy: its
// configuration loaded (it would not be serving otherwise) and the API server
// answered it recently. Leadership and cache sync are not part of readiness, so
// a standby replica is Ready too (as controller-runtime's managers are) and a
// rolling update of the operator's Deployment can proceed while another replica
// holds the Lease. Leadership shows in the millrace_operator_leader metric and in
// the /readyz body; the leader still starts reconciling only after its caches sync.
//
// ApiReachability is written by the thread that pings the API server and read by
// the health server's threads: all state is atomic, no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace millrace::op {

struct ReadinessVerdict {
  bool ready = false;
  std::string detail;  // one line for the /readyz body: why, or what role this replica has
};

class ApiReachability {
 public:
  using Clock = std::chrono::steady_clock;
  // window: how long after the last answer the API server still counts as reachable.
  explicit ApiReachability(std::chrono::milliseconds window) : window_(window) {}

  // Any HTTP answer (even 4xx) shows the server is reachable; a transport error does not.
  void answered(Clock::time_point at);
  void failed(Clock::time_point at, std::string error);

  // role: "leader", "standby" or "leader election off"; caches_synced only shapes the detail.
  ReadinessVerdict verdict(Clock::time_point now, const std::string& role, bool caches_synced) const;

 private:
  std::chrono::milliseconds window_;
  std::atomic<int64_t> last_answer_ns_{-1};  // Clock ticks in ns since its epoch; -1: never
  mutable std::mutex error_mu_;
  std::string last_error_;  // GUARDED_BY(error_mu_)
};

}  // namespace millrace::op

// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it:
// the holder renews renewTime every retry period; another candidate takes the
// Lease over only after it has seen the same record unchanged for the lease
// duration (measured on its own clock, so clock skew does not matter). Updates
// carry the resourceVersion read, so two candidates cannot both win.
//
// On a clean stop the holder releases the Lease (client-go's ReleaseOnCancel):
// once its reconcile loop has stopped, stop_and_release() writes the record it
// last renewed back with holderIdentity cleared and leaseDurationSeconds 1, under
// that record's resourceVersion, so the write fails (409) if anyone else wrote
// the Lease since. A candidate that sees an empty holder takes the Lease at its
// next retry, instead of waiting out the lease duration.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "operator/kube_client.h"

namespace millrace::op {

// The Lease to write back on release: `lease` (as last read or written, with its
// metadata.resourceVersion) with the holder cleared, leaseDurationSeconds 1 and
// renewTime/acquireTime `now`; leaseTransitions kept. nullopt when `identity`
// does not hold `lease` (nothing to release). Pure: unit-tested.
std::optional<json> released_lease(const json& lease, const std::string& identity, const std::string& now);

// The Lease's current time format (RFC 3339 with microseconds, UTC).
std::string lease_micro_time();

class LeaderElector {
 public:
  struct Options {
    std::string namespace_, name = "millrace-operator", identity;
    std::chrono::seconds lease_duration{15}, retry_period{2};
  };
  LeaderElector(KubeClient& client, Options opts, std::function<void(bool leader)> on_change);
  ~LeaderElector();
  void start();
  bool is_leader() const { return leader_.load(); }

  // Stops campaigning (joins the election thread; on_change is not called again)
  // and, if this replica holds the Lease, releases it as described above.
  // REQUIRES: the caller has stopped reconciling. Returns "" or why the Lease was
  // not released (then a successor waits for it to expire, as before).
  std::string stop_and_release();

 private:
  void run();
  bool try_acquire_or_renew();

  KubeClient& client_;
  Options opts_;
  std::function<void(bool)> on_change_;
  std::atomic<bool> leader_{false}, stop_{false};
  std::string observed_record_;
  json held_lease_;  // the Lease as our last successful acquire/renew wrote it
  std::chrono::steady_clock::time_point observed_at_{};
  std::thread thread_;
};

}  // namespace millrace::op

// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it:
// the holder renews renewTime every retry period; another candidate takes the
// Lease over only after it has seen the same record unchanged for the lease
// duration (measured on its own clock, so clock skew does not matter). Updates
// carry the resourceVersion read, so two candidates cannot both win.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "operator/kube_client.h"

namespace millrace::op {

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

 private:
  void run();
  bool try_acquire_or_renew();

  KubeClient& client_;
  Options opts_;
  std::function<void(bool)> on_change_;
  std::atomic<bool> leader_{false}, stop_{false};
  std::string observed_record_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::thread thread_;
};

}  // namespace millrace::op

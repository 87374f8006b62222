#include "operator/readiness.h"

#include <fmt/format.h>

namespace millrace::op {
namespace {
int64_t ns_of(ApiReachability::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

void ApiReachability::answered(Clock::time_point at) {
  auto ns = ns_of(at);
  auto prev = last_answer_ns_.load();
  while (prev < ns && !last_answer_ns_.compare_exchange_weak(prev, ns)) {
  }
}

void ApiReachability::failed(Clock::time_point, std::string error) {
  std::lock_guard lock(error_mu_);
  last_error_ = std::move(error);
}

ReadinessVerdict ApiReachability::verdict(Clock::time_point now, const std::string& role, bool caches_synced) const {
  auto last = last_answer_ns_.load();
  std::string error;
  {
    std::lock_guard lock(error_mu_);
    error = last_error_;
  }
  if (last < 0)
    return {false, error.empty() ? "API server not reached yet" : "API server not reached yet: " + error};
  auto age = std::chrono::nanoseconds(ns_of(now) - last);
  if (age > window_) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
    return {false, fmt::format("API server last answered {} ms ago{}", ms, error.empty() ? "" : ": " + error)};
  }
  std::string detail = "ok: " + role;
  if (role != "standby") detail += caches_synced ? ", caches synced" : ", caches syncing";
  return {true, detail};
}

}  // namespace millrace::op

#include "operator/leader_election.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>

namespace millrace::op {
std::string lease_micro_time() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, static_cast<long long>(micros));
}

std::optional<json> released_lease(const json& lease, const std::string& identity, const std::string& now) {
  if (!lease.is_object() || !lease.contains("spec") || !lease["spec"].is_object()) return std::nullopt;
  const auto& spec = lease["spec"];
  if (identity.empty() || spec.value("holderIdentity", "") != identity) return std::nullopt;
  json out = lease;
  out["spec"] = {{"holderIdentity", ""},
                 {"leaseDurationSeconds", 1},
                 {"acquireTime", now},
                 {"renewTime", now},
                 {"leaseTransitions", spec.value("leaseTransitions", 0)}};
  return out;
}

LeaderElector::LeaderElector(KubeClient& client, Options opts, std::function<void(bool)> on_change)
    : client_(client), opts_(std::move(opts)), on_change_(std::move(on_change)) {}

LeaderElector::~LeaderElector() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::string LeaderElector::stop_and_release() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();  // no renewal can follow the release
  if (!leader_.load()) return "not the leader";
  leader_.store(false);
  auto lease = released_lease(held_lease_, opts_.identity, lease_micro_time());
  if (!lease) return "no held Lease record";
  auto r = client_.update(res::kLease.object(opts_.namespace_, opts_.name), *lease, res::kLease.plural);
  if (r.ok()) {
    spdlog::info("leader election: released the lease {}/{}", opts_.namespace_, opts_.name);
    return "";
  }
  return r.conflict() ? "the Lease changed since our last renewal (409); left as it is" : r.describe();
}

void LeaderElector::start() { thread_ = std::thread([this] { run(); }); }

void LeaderElector::run() {
  while (!stop_.load()) {
    bool now_leader = try_acquire_or_renew();
    if (now_leader != leader_.load()) {
      leader_.store(now_leader);
      spdlog::info("leader election: {} the lease {}/{}", now_leader ? "acquired" : "lost", opts_.namespace_,
                   opts_.name);
      on_change_(now_leader);
    }
    for (int i = 0; i < opts_.retry_period.count() * 10 && !stop_.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool LeaderElector::try_acquire_or_renew() {
  auto path = res::kLease.object(opts_.namespace_, opts_.name);
  auto now = lease_micro_time();
  auto got = client_.get(path);
  json spec = {{"holderIdentity", opts_.identity},
               {"leaseDurationSeconds", opts_.lease_duration.count()},
               {"acquireTime", now},
               {"renewTime", now},
               {"leaseTransitions", 0}};
  if (got.not_found()) {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", opts_.name}, {"namespace", opts_.namespace_}}},
                  {"spec", spec}};
    auto r = client_.create(res::kLease.collection(opts_.namespace_), lease, res::kLease.plural);
    if (r.ok()) held_lease_ = r.body;
    return r.ok();
  }
  if (!got.ok()) {
    spdlog::warn("leader election: get lease: {}", got.describe());
    // Keep leading only while our last renewal is surely still valid.
    return leader_.load() && std::chrono::steady_clock::now() - observed_at_ < opts_.lease_duration / 2;
  }
  auto lease = got.body;
  auto holder = lease["spec"].value("holderIdentity", "");
  auto record = lease["spec"].dump();
  auto steady_now = std::chrono::steady_clock::now();
  if (record != observed_record_) {
    observed_record_ = record;
    observed_at_ = steady_now;
  }
  if (holder != opts_.identity && !holder.empty()) {
    auto duration = std::chrono::seconds(lease["spec"].value("leaseDurationSeconds", 15));
    if (steady_now - observed_at_ < duration) return false;  // held by a live candidate
    spdlog::info("leader election: lease held by {} expired; taking over", holder);
  }
  if (holder == opts_.identity) spec["acquireTime"] = lease["spec"].value("acquireTime", now);
  spec["leaseTransitions"] = lease["spec"].value("leaseTransitions", 0) + (holder == opts_.identity ? 0 : 1);
  lease["spec"] = spec;
  auto r = client_.update(path, lease, res::kLease.plural);  // carries metadata.resourceVersion
  if (r.ok()) {
    held_lease_ = r.body;
    observed_record_ = r.body["spec"].dump();
    observed_at_ = std::chrono::steady_clock::now();
    return true;
  }
  if (!r.conflict()) spdlog::warn("leader election: update lease: {}", r.describe());
  return false;
}

}  // namespace millrace::op

#include "operator/leader_election.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>

namespace millrace::op {
namespace {

std::string micro_time() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, static_cast<long long>(micros));
}

}  // namespace

LeaderElector::LeaderElector(KubeClient& client, Options opts, std::function<void(bool)> on_change)
    : client_(client), opts_(std::move(opts)), on_change_(std::move(on_change)) {}

LeaderElector::~LeaderElector() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
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
  auto now = micro_time();
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
    return client_.create(res::kLease.collection(opts_.namespace_), lease, res::kLease.plural).ok();
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
    observed_record_ = r.body["spec"].dump();
    observed_at_ = std::chrono::steady_clock::now();
    return true;
  }
  if (!r.conflict()) spdlog::warn("leader election: update lease: {}", r.describe());
  return false;
}

}  // namespace millrace::op

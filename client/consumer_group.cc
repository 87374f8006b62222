// Consumer, group membership: the group coroutine on the io thread (FindCoordinator,
// JoinGroup/SyncGroup with the assignors, heartbeats), OffsetCommit, and poll()'s
// share of the group's work (auto-commit, a rebalance's commit and revoke) on the
// application thread. See consumer.h for who runs what.
#include "client/consumer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "client/assignor.h"
#include "client/consumer_detail.h"
#include "client/consumer_protocol.h"
#include "client/group_by_topic.h"

namespace millrace::client {

using consumer_detail::mono_ms;
using consumer_detail::sleep_for;

void Consumer::run_group_duties() {
  if (closing_ || cfg_.group_id.empty()) return;
  bool revoking, subscribed;
  std::set<TopicPartition> revoke;
  {
    std::lock_guard lock(mu_);
    revoking = revoke_pending_;
    revoke = to_revoke_;
    subscribed = subscribed_;
  }
  if (revoking) {
    // Kafka's onJoinPrepare / onPartitionsRevoked: commit what the application was
    // handed for these partitions (it called poll() again, so it is done with them),
    // synchronously, then give them up.
    if (cfg_.enable_auto_commit) {
      std::map<TopicPartition, int64_t> pos;
      for (auto& [tp, off] : consumed_positions())
        if (revoke.count(tp)) pos[tp] = off;
      if (!pos.empty()) (void)cluster_->run(commit(std::move(pos)));
    }
    std::lock_guard lock(mu_);
    for (auto& tp : revoke) parts_.erase(tp);
    to_revoke_.clear();
    revoke_pending_ = false;
  }
  if (cfg_.enable_auto_commit && subscribed && mono_ms() >= next_auto_commit_ms_) {
    next_auto_commit_ms_ = mono_ms() + cfg_.auto_commit_interval_ms;
    auto pos = consumed_positions();
    if (!pos.empty()) asio::co_spawn(cluster_->io(), auto_commit(std::move(pos)), asio::detached);
  }
}

asio::awaitable<void> Consumer::auto_commit(std::map<TopicPartition, int64_t> offsets) {
  // Asynchronous, as Java's maybeAutoCommitOffsetsAsync; skipped while the member is
  // rejoining (its generation is stale; the rebalance commits the revoked partitions).
  if (rejoin_ || closing_) co_return;
  (void)co_await commit(std::move(offsets));
}

asio::awaitable<Result<int32_t>> Consumer::coordinator() {
  if (coordinator_ >= 0) co_return coordinator_;
  proto::FindCoordinatorRequest req;
  req.key = cfg_.group_id;
  auto resp = co_await cluster_->call(kAnyNode, req);
  if (!resp.ok()) co_return resp.error();
  if (resp->error_code != 0) co_return Error{resp->error_code, "FindCoordinator failed"};
  if (!cluster_->metadata().brokers.count(resp->node_id)) (void)co_await cluster_->refresh_metadata({}, false);
  coordinator_ = resp->node_id;
  co_return coordinator_;
}

asio::awaitable<Status> Consumer::commit(std::map<TopicPartition, int64_t> offsets) {
  auto coord = co_await coordinator();
  if (!coord.ok()) co_return coord.error();
  bool subscribed;
  {
    std::lock_guard lock(mu_);
    subscribed = subscribed_;
  }
  proto::OffsetCommitRequest req;
  req.group_id = cfg_.group_id;
  req.generation_id_or_member_epoch = subscribed ? generation_ : -1;
  req.member_id = subscribed ? member_id_ : "";
  req.topics = group_by_topic<proto::OffsetCommitRequest::OffsetCommitRequestTopic>(
      offsets, [](auto& p, const auto& item) { p.committed_offset = item.second; });
  auto resp = co_await cluster_->call(*coord, req);
  if (!resp.ok()) { coordinator_ = -1; co_return resp.error(); }
  for (auto& t : resp->topics)
    for (auto& p : t.partitions)
      if (p.error_code != 0) {
        if (p.error_code == errc::kNotCoordinator || p.error_code == errc::kCoordinatorNotAvailable) coordinator_ = -1;
        if (p.error_code == errc::kIllegalGeneration || p.error_code == errc::kUnknownMemberId ||
            p.error_code == errc::kRebalanceInProgress)
          rejoin_ = true;
        co_return Error{p.error_code, "commit of " + t.name + "-" + std::to_string(p.partition_index) + " failed"};
      }
  co_return Error::none();
}

asio::awaitable<Status> Consumer::join_and_sync() {
  auto coord = co_await coordinator();
  if (!coord.ok()) co_return coord.error();
  std::vector<std::string> topics;
  std::vector<TopicPartition> owned;
  {
    std::lock_guard lock(mu_);
    topics = topics_;
    for (auto& [tp, s] : parts_) owned.push_back(tp);
  }
  bool coop = cfg_.assignor == "cooperative-sticky";
  // Eager: poll() has committed and given up every partition before we got here
  // (group_loop); nothing is owned.
  if (!coop) set_assignment({});
  proto::JoinGroupRequest join;
  join.group_id = cfg_.group_id;
  join.session_timeout_ms = cfg_.session_timeout_ms;
  join.rebalance_timeout_ms = cfg_.rebalance_timeout_ms;
  join.member_id = member_id_;
  join.protocol_type = "consumer";
  join.protocols.push_back({cfg_.assignor, encode_subscription({topics, coop ? owned : std::vector<TopicPartition>{}, generation_}), {}});
  auto timeout = std::chrono::milliseconds(cfg_.rebalance_timeout_ms + 5000);
  auto jr = co_await cluster_->call(*coord, join, timeout);
  if (!jr.ok()) { coordinator_ = -1; co_return jr.error(); }
  if (jr->error_code == errc::kMemberIdRequired) {
    member_id_ = jr->member_id;
    co_return Error{errc::kMemberIdRequired, "rejoin with member id"};
  }
  if (jr->error_code != 0) {
    if (jr->error_code == errc::kUnknownMemberId || jr->error_code == errc::kIllegalGeneration) member_id_.clear();
    if (jr->error_code == errc::kNotCoordinator || jr->error_code == errc::kCoordinatorNotAvailable) coordinator_ = -1;
    co_return Error{jr->error_code, "JoinGroup failed"};
  }
  member_id_ = jr->member_id;
  generation_ = jr->generation_id;
  proto::SyncGroupRequest sync;
  sync.group_id = cfg_.group_id;
  sync.generation_id = generation_;
  sync.member_id = member_id_;
  sync.protocol_type = "consumer";
  sync.protocol_name = jr->protocol_name;
  if (jr->leader == member_id_) {
    MemberSubscriptions subs;
    std::vector<std::string> all_topics;
    for (auto& m : jr->members) {
      auto s = decode_subscription(m.metadata);
      if (!s) continue;
      subs[m.member_id] = *s;
      all_topics.insert(all_topics.end(), s->topics.begin(), s->topics.end());
    }
    auto md = co_await cluster_->refresh_metadata(all_topics, false);
    if (!md.ok()) co_return md.error();
    PartitionCounts counts;
    for (auto& [name, t] : md->topics)
      if (t.error_code == 0) counts[name] = static_cast<int32_t>(t.partitions.size());
    auto assignment = jr->protocol_name.value_or("range") == "cooperative-sticky"
                          ? cooperative_sticky_assign(subs, counts) : range_assign(subs, counts);
    for (auto& [member, tps] : assignment) sync.assignments.push_back({member, encode_assignment(tps), {}});
  }
  auto sr = co_await cluster_->call(*coord, sync, timeout);
  if (!sr.ok()) { coordinator_ = -1; co_return sr.error(); }
  if (sr->error_code != 0) {
    if (sr->error_code == errc::kUnknownMemberId || sr->error_code == errc::kIllegalGeneration) member_id_.clear();
    co_return Error{sr->error_code, "SyncGroup failed"};
  }
  auto assigned = decode_assignment(sr->assignment);
  if (!assigned) co_return Error{errc::kCorruptMessage, "malformed assignment from the group leader"};
  // Cooperative: partitions we owned but lost stay ours until poll() has committed
  // and given them up (run_group_duties); then we rejoin so the leader can hand
  // them on.
  std::set<TopicPartition> now(assigned->begin(), assigned->end());
  std::set<TopicPartition> revoked;
  for (auto& tp : owned)
    if (!now.count(tp)) revoked.insert(tp);
  std::vector<TopicPartition> keep(assigned->begin(), assigned->end());
  if (coop) keep.insert(keep.end(), revoked.begin(), revoked.end());
  set_assignment(keep);
  if (coop && !revoked.empty()) {
    std::lock_guard lock(mu_);
    to_revoke_.insert(revoked.begin(), revoked.end());
    revoke_pending_ = true;
    cv_.notify_all();
  }
  rejoin_ = coop && !revoked.empty();
  co_return co_await init_positions();
}

asio::awaitable<void> Consumer::group_loop() {
  int64_t last_hb = 0;
  const bool coop = cfg_.assignor == "cooperative-sticky";
  while (!closing_) {
    ++group_rounds_;
    bool subscribed, revoking;
    {
      std::lock_guard lock(mu_);
      subscribed = subscribed_;
      // Eager: before JoinGroup, poll() commits and gives up everything we own.
      if (subscribed && rejoin_ && !coop && !revoke_pending_ && !parts_.empty()) {
        for (auto& [tp, s] : parts_) to_revoke_.insert(tp);
        revoke_pending_ = true;
        cv_.notify_all();
      }
      revoking = revoke_pending_;
    }
    if (!subscribed) {
      auto st = co_await init_positions();
      if (!st.ok()) {
        std::lock_guard lock(mu_);
        if (st.code == errc::kOffsetOutOfRange || is_authentication_error(st.code)) { fatal_ = st; cv_.notify_all(); }
      }
    } else if (rejoin_ && !revoking) {
      auto st = co_await join_and_sync();
      if (!st.ok()) {
        if (is_authentication_error(st.code)) {   // poll() says so, as Java's throws; the loop tries again
          std::lock_guard lock(mu_);
          fatal_ = st;
          cv_.notify_all();
        }
        rejoin_ = true;
        if (st.code != errc::kMemberIdRequired) co_await sleep_for(cluster_->io(), 200);
        continue;
      }
      last_hb = mono_ms();
    } else if (!member_id_.empty() && generation_ >= 0 && mono_ms() - last_hb >= cfg_.heartbeat_interval_ms) {
      // Also while poll() has a revocation to do: the session stays alive meanwhile.
      last_hb = mono_ms();
      proto::HeartbeatRequest hb;
      hb.group_id = cfg_.group_id;
      hb.generation_id = generation_;
      hb.member_id = member_id_;
      auto coord = co_await coordinator();
      if (coord.ok()) {
        auto r = co_await cluster_->call(*coord, hb);
        if (!r.ok()) coordinator_ = -1;
        else if (r->error_code == errc::kRebalanceInProgress) rejoin_ = true;
        else if (r->error_code == errc::kUnknownMemberId || r->error_code == errc::kIllegalGeneration) {
          member_id_.clear();
          generation_ = -1;
          rejoin_ = true;
        } else if (r->error_code == errc::kNotCoordinator || r->error_code == errc::kCoordinatorNotAvailable) {
          coordinator_ = -1;
        }
      }
    }
    co_await sleep_for(cluster_->io(), 100);
  }
}


}  // namespace millrace::client

#include "client/consumer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "client/assignor.h"
#include "client/consumer_protocol.h"
#include "client/fetch_response_view.h"

namespace millrace::client {

namespace {
int64_t mono_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
asio::awaitable<void> sleep_for(asio::io_context& io, int64_t ms) {
  asio::steady_timer t(io);
  t.expires_after(std::chrono::milliseconds(ms));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}
}  // namespace

Consumer::Consumer(ConsumerConfig cfg) : cfg_(std::move(cfg)), cluster_(std::make_unique<Cluster>(cfg_.client)) {
  next_auto_commit_ms_ = mono_ms() + cfg_.auto_commit_interval_ms;
  fetch_wake_ = std::make_unique<asio::steady_timer>(cluster_->io());
  loops_ = 2;
  asio::co_spawn(cluster_->io(), group_loop(), [this](std::exception_ptr) { --loops_; });
  asio::co_spawn(cluster_->io(), fetch_loop(), [this](std::exception_ptr) { --loops_; });
}

Consumer::~Consumer() { close(); }

Status Consumer::subscribe(std::vector<std::string> topics) {
  if (closing_) return Error::closed("consumer is closed");
  if (cfg_.group_id.empty()) return Error::invalid("subscribe() needs a group id (--group); use assign() without one");
  std::lock_guard lock(mu_);
  topics_ = std::move(topics);
  subscribed_ = true;
  asio::post(cluster_->io(), [this] { rejoin_ = true; });
  return Error::none();
}

Status Consumer::assign(std::vector<TopicPartition> partitions) {
  if (closing_) return Error::closed("consumer is closed");
  {
    std::lock_guard lock(mu_);
    subscribed_ = false;
    topics_.clear();
  }
  set_assignment(partitions);
  asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
  return Error::none();
}

void Consumer::set_assignment(const std::vector<TopicPartition>& tps) {
  std::lock_guard lock(mu_);
  std::map<TopicPartition, PartState> next;
  for (auto& tp : tps) {
    auto it = parts_.find(tp);
    if (it != parts_.end()) next[tp] = std::move(it->second);
    else next[tp].epoch = next_epoch_++;
  }
  parts_ = std::move(next);
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::lock_guard lock(mu_);
  std::vector<TopicPartition> out;
  for (auto& [tp, s] : parts_) out.push_back(tp);
  return out;
}

Result<std::vector<ConsumerRecord>> Consumer::poll(std::chrono::milliseconds timeout) {
  if (closing_) return Error::closed("consumer is closed");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  struct Taken {
    TopicPartition tp;
    uint64_t epoch;
    FetchedRecords records;
  };
  std::vector<Taken> taken;
  std::vector<ConsumerRecord> out;
  for (;;) {
    run_group_duties();
    {
      std::unique_lock lock(mu_);
      auto has_data = [&] {
        if (fatal_ || closing_ || revoke_pending_) return true;
        for (auto& [tp, s] : parts_)
          if (!s.paused && !s.fetched.empty()) return true;
        return false;
      };
      cv_.wait_until(lock, deadline, has_data);
      if (closing_) return Error::closed("consumer was closed during poll()");
      // A rebalance wants partitions back: that comes first (records of revoked
      // partitions are not handed out).
      if (revoke_pending_) continue;
      if (fatal_) {
        Error e = *fatal_;
        fatal_.reset();
        return e;
      }
      // Take the queued responses; they are decoded below without the lock, so the
      // io thread can queue the next ones meanwhile.
      for (auto& [tp, s] : parts_) {
        if (s.paused) continue;
        for (auto& f : s.fetched) taken.push_back({tp, s.epoch, std::move(f)});
        s.in_poll += s.fetched.size();
        s.fetched.clear();
      }
    }
    if (taken.empty()) return out;   // timed out
    Status bad;
    size_t bad_at = taken.size();
    out.reserve(std::min<size_t>(kMaxPollRecords, 1024));
    for (size_t i = 0; i < taken.size() && out.size() < kMaxPollRecords; ++i) {
      auto st = taken[i].records.drain(taken[i].tp.topic, taken[i].tp.partition, out, kMaxPollRecords, poll_scratch_);
      if (!st.ok()) {
        bad = st;
        bad_at = i;
        break;
      }
    }
    {
      std::lock_guard lock(mu_);
      bool bad_applies = false;   // the bad batch's partition was not seeked meanwhile
      // Hand back what was not drained, in order, to the front of each queue.
      for (size_t i = taken.size(); i-- > 0;) {
        auto& t = taken[i];
        auto it = parts_.find(t.tp);
        if (it != parts_.end() && it->second.in_poll > 0) --it->second.in_poll;
        if (it == parts_.end() || it->second.epoch != t.epoch) {
          // Reassigned or seeked while we decoded: its records are stale.
          std::erase_if(out, [&](const ConsumerRecord& r) { return r.partition == t.tp.partition && r.topic == t.tp.topic; });
          continue;
        }
        auto& s = it->second;
        if (i == bad_at) {
          // Fetch again from the bad batch: poll() keeps reporting it until a seek.
          // (The new epoch is set below, after the earlier responses of the same
          // partition, whose records before the bad batch are good, are handed back.)
          s.fetch_pos = t.records.position();
          s.consumed_pos = t.records.position();
          s.fetched.clear();
          bad_applies = true;
          continue;
        }
        if (t.records.position() > s.consumed_pos) s.consumed_pos = t.records.position();
        if (!t.records.done()) s.fetched.push_front(std::move(t.records));
      }
      if (bad_applies) {
        fatal_ = bad;
        parts_.find(taken[bad_at].tp)->second.epoch = next_epoch_++;
      }
      taken.clear();
    }
    asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
    if (!bad.ok() && out.empty()) {
      std::lock_guard lock(mu_);
      if (fatal_ && fatal_->code == bad.code && fatal_->message == bad.message) {
        fatal_.reset();
        return bad;
      }
    }
    // Only control batches or records below the position: wait for more.
    if (!out.empty() || std::chrono::steady_clock::now() >= deadline) return out;
  }
}

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

std::map<TopicPartition, int64_t> Consumer::consumed_positions() const {
  std::lock_guard lock(mu_);
  std::map<TopicPartition, int64_t> out;
  for (auto& [tp, s] : parts_)
    if (s.consumed_pos >= 0) out[tp] = s.consumed_pos;
  return out;
}

Status Consumer::commit_sync() { return commit_sync(consumed_positions()); }

Status Consumer::commit_sync(const std::map<TopicPartition, int64_t>& offsets) {
  if (closing_) return Error::closed("consumer is closed");
  if (cfg_.group_id.empty()) return Error::invalid("commit needs a group id");
  if (offsets.empty()) return Error::none();
  return cluster_->run(commit(offsets));
}

Status Consumer::seek(const TopicPartition& tp, int64_t offset) {
  if (closing_) return Error::closed("consumer is closed");
  {
    std::lock_guard lock(mu_);
    auto it = parts_.find(tp);
    if (it == parts_.end()) return Error::invalid(tp.topic + "-" + std::to_string(tp.partition) + " is not assigned");
    it->second.fetch_pos = offset;
    it->second.consumed_pos = offset;
    it->second.fetched.clear();
    it->second.epoch = next_epoch_++;
  }
  // Fetch from the new position now, not at the fetcher's next periodic look (up
  // to a second: the first records of `bench consume` waited ~0.4 s for it).
  asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
  return Error::none();
}

Status Consumer::seek_to_beginning(const std::vector<TopicPartition>& tps) {
  if (closing_) return Error::closed("consumer is closed");
  auto r = cluster_->run(list_offsets(tps, -2));
  if (!r.ok()) return r.error();
  for (auto& [tp, off] : *r) seek(tp, off);
  return Error::none();
}

Status Consumer::seek_to_end(const std::vector<TopicPartition>& tps) {
  if (closing_) return Error::closed("consumer is closed");
  auto r = cluster_->run(list_offsets(tps, -1));
  if (!r.ok()) return r.error();
  for (auto& [tp, off] : *r) seek(tp, off);
  return Error::none();
}

Status Consumer::seek_to_time(const std::vector<TopicPartition>& tps, int64_t ts) {
  if (closing_) return Error::closed("consumer is closed");
  auto r = cluster_->run(list_offsets(tps, ts));
  if (!r.ok()) return r.error();
  std::vector<TopicPartition> past_end;
  for (auto& [tp, off] : *r) {
    if (off >= 0) seek(tp, off);
    else past_end.push_back(tp);   // no record at or after ts: go to the end
  }
  if (!past_end.empty()) return seek_to_end(past_end);
  return Error::none();
}

std::optional<int64_t> Consumer::position(const TopicPartition& tp) const {
  std::lock_guard lock(mu_);
  auto it = parts_.find(tp);
  if (it == parts_.end() || it->second.consumed_pos < 0) return std::nullopt;
  return it->second.consumed_pos;
}

void Consumer::pause(const std::vector<TopicPartition>& tps) {
  std::lock_guard lock(mu_);
  for (auto& tp : tps) {
    auto it = parts_.find(tp);
    if (it == parts_.end()) continue;
    it->second.paused = true;
  }
}

void Consumer::resume(const std::vector<TopicPartition>& tps) {
  {
    std::lock_guard lock(mu_);
    for (auto& tp : tps) {
      auto it = parts_.find(tp);
      if (it != parts_.end()) it->second.paused = false;
    }
  }
  asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
}

Status Consumer::close(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + timeout;
  if (closing_.exchange(true)) return Error::closed("consumer is already closed");
  if (cluster_->on_io_thread()) return Error::invalid("close() called on the consumer's io thread");
  {
    std::lock_guard lock(mu_);   // wakes a poll() blocked in another thread
  }
  cv_.notify_all();
  Status result;
  if (!cfg_.group_id.empty() && cfg_.enable_auto_commit) {
    auto offsets = consumed_positions();
    if (!offsets.empty()) result = cluster_->run_within(commit(std::move(offsets)), deadline);
  }
  if (!cfg_.group_id.empty()) {
    Status left = cluster_->run_within([this, deadline]() -> asio::awaitable<Status> {
      Status st;
      if (!member_id_.empty() && coordinator_ >= 0) {
        auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        proto::LeaveGroupRequest req;
        req.group_id = cfg_.group_id;
        req.member_id = member_id_;
        req.members.push_back({member_id_, std::nullopt, std::nullopt, {}});
        auto r = co_await cluster_->call(coordinator_, req, std::clamp(budget, std::chrono::milliseconds(1),
                                                                        std::chrono::milliseconds(5000)));
        if (!r.ok()) st = r.error();
      }
      fetch_wake_->cancel();
      co_return st;
    }(), deadline);
    if (result.ok() && left.code != errc::kClientClosed) result = left;
  }
  // The group and fetch loops see closing_ and finish (a heartbeat sleep may hold
  // the group loop a few seconds: give them at most 2 s); then, or past the
  // deadline, the io thread is stopped regardless. Nothing is lost by that: the
  // commit and the leave are done.
  auto loops_deadline = std::min(deadline, Clock::now() + std::chrono::seconds(2));
  while (loops_ > 0 && Clock::now() < loops_deadline && !cluster_->closed()) {
    asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  cluster_->shutdown();
  return result;
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
  std::map<std::string, proto::OffsetCommitRequest::OffsetCommitRequestTopic> per;
  for (auto& [tp, off] : offsets) {
    auto& t = per[tp.topic];
    t.name = tp.topic;
    proto::OffsetCommitRequest::OffsetCommitRequestTopic::OffsetCommitRequestPartition p;
    p.partition_index = tp.partition;
    p.committed_offset = off;
    t.partitions.push_back(p);
  }
  for (auto& [n, t] : per) req.topics.push_back(t);
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

asio::awaitable<Result<std::map<TopicPartition, int64_t>>> Consumer::list_offsets(std::vector<TopicPartition> tps,
                                                                                   int64_t spec) {
  std::vector<std::string> topics;
  for (auto& tp : tps) topics.push_back(tp.topic);
  auto md = co_await cluster_->refresh_metadata(topics, false);
  if (!md.ok()) co_return md.error();
  std::map<int32_t, std::vector<TopicPartition>> by_leader;
  for (auto& tp : tps) {
    auto l = cluster_->leader_for(tp.topic, tp.partition);
    if (!l) co_return Error{errc::kLeaderNotAvailable, "no leader for " + tp.topic + "-" + std::to_string(tp.partition)};
    by_leader[*l].push_back(tp);
  }
  std::map<TopicPartition, int64_t> out;
  for (auto& [leader, list] : by_leader) {
    proto::ListOffsetsRequest req;
    req.replica_id = -1;
    std::map<std::string, proto::ListOffsetsRequest::ListOffsetsTopic> per;
    for (auto& tp : list) {
      per[tp.topic].name = tp.topic;
      proto::ListOffsetsRequest::ListOffsetsTopic::ListOffsetsPartition p;
      p.partition_index = tp.partition;
      p.timestamp = spec;
      per[tp.topic].partitions.push_back(p);
    }
    for (auto& [n, t] : per) req.topics.push_back(t);
    auto resp = co_await cluster_->call(leader, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& t : resp->topics)
      for (auto& p : t.partitions) {
        if (p.error_code != 0) co_return Error{p.error_code, "ListOffsets " + t.name + "-" + std::to_string(p.partition_index)};
        out[{t.name, p.partition_index}] = p.offset;
      }
  }
  co_return out;
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

asio::awaitable<Status> Consumer::init_positions() {
  std::vector<TopicPartition> missing;
  {
    std::lock_guard lock(mu_);
    for (auto& [tp, s] : parts_)
      if (s.fetch_pos < 0) missing.push_back(tp);
  }
  if (missing.empty()) co_return Error::none();
  std::map<TopicPartition, int64_t> found;
  if (!cfg_.group_id.empty()) {
    auto coord = co_await coordinator();
    if (!coord.ok()) co_return coord.error();
    proto::OffsetFetchRequest req;
    req.group_id = cfg_.group_id;
    req.topics.emplace();
    std::map<std::string, proto::OffsetFetchRequest::OffsetFetchRequestTopic> per;
    for (auto& tp : missing) {
      per[tp.topic].name = tp.topic;
      per[tp.topic].partition_indexes.push_back(tp.partition);
    }
    for (auto& [n, t] : per) req.topics->push_back(t);
    auto resp = co_await cluster_->call(*coord, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& t : resp->topics)
      for (auto& p : t.partitions)
        if (p.error_code == 0 && p.committed_offset >= 0) found[{t.name, p.partition_index}] = p.committed_offset;
  }
  std::vector<TopicPartition> reset;
  for (auto& tp : missing)
    if (!found.count(tp)) reset.push_back(tp);
  if (!reset.empty()) {
    if (cfg_.auto_offset_reset == "none")
      co_return Error{errc::kOffsetOutOfRange, "no committed offset and auto.offset.reset=none"};
    auto r = co_await list_offsets(reset, cfg_.auto_offset_reset == "earliest" ? -2 : -1);
    if (!r.ok()) co_return r.error();
    for (auto& [tp, off] : *r) found[tp] = off;
  }
  {
    std::lock_guard lock(mu_);
    for (auto& [tp, off] : found) {
      auto it = parts_.find(tp);
      if (it == parts_.end() || it->second.fetch_pos >= 0) continue;
      it->second.fetch_pos = off;
      if (it->second.consumed_pos < 0) it->second.consumed_pos = off;
    }
  }
  fetch_wake_->cancel();
  co_return Error::none();
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
        if (st.code == errc::kOffsetOutOfRange) { fatal_ = st; cv_.notify_all(); }
      }
    } else if (rejoin_ && !revoking) {
      auto st = co_await join_and_sync();
      if (!st.ok()) {
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

asio::awaitable<void> Consumer::fetch_loop() {
  while (!closing_) {
    std::map<int32_t, std::vector<TopicPartition>> by_leader;
    bool need_md = false;
    {
      std::lock_guard lock(mu_);
      for (auto& [tp, s] : parts_) {
        if (s.paused || s.fetch_pos < 0 || s.fetched.size() + s.in_poll >= kFetchesAhead) continue;
        auto l = cluster_->leader_for(tp.topic, tp.partition);
        if (!l) { need_md = true; continue; }
        by_leader[*l].push_back(tp);
      }
    }
    if (need_md) {
      std::vector<std::string> topics;
      for (auto& tp : assignment()) topics.push_back(tp.topic);
      (void)co_await cluster_->refresh_metadata(topics, false);
    }
    for (auto& [leader, tps] : by_leader) {
      if (fetching_.count(leader)) continue;
      fetching_.insert(leader);
      asio::co_spawn(cluster_->io(), fetch_from(leader, tps), asio::detached);
    }
    fetch_wake_->expires_after(std::chrono::milliseconds(need_md ? 100 : 1000));
    boost::system::error_code ec;
    co_await fetch_wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Consumer::fetch_from(int32_t leader, std::vector<TopicPartition> tps) {
  // A broker fills fetch.max.bytes in request order, so each Fetch starts one
  // partition further on (as Kafka's consumer moves fetched partitions to the back):
  // a partition late in the list is not starved while early ones keep data coming.
  if (tps.size() > 1) std::rotate(tps.begin(), tps.begin() + static_cast<std::ptrdiff_t>(fetch_round_++ % tps.size()), tps.end());
  proto::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = cfg_.fetch_max_wait_ms;
  req.min_bytes = cfg_.fetch_min_bytes;
  req.max_bytes = cfg_.fetch_max_bytes;
  req.isolation_level = 0;
  req.session_id = 0;
  req.session_epoch = -1;
  struct Asked {
    uint64_t epoch;
    int64_t offset;
  };
  std::map<TopicPartition, Asked> asked;
  {
    std::lock_guard lock(mu_);
    std::map<std::string, size_t> idx;
    for (auto& tp : tps) {
      auto it = parts_.find(tp);
      if (it == parts_.end()) continue;
      asked[tp] = {it->second.epoch, it->second.fetch_pos};
      auto ti = idx.find(tp.topic);
      if (ti == idx.end()) {
        ti = idx.emplace(tp.topic, req.topics.size()).first;
        req.topics.emplace_back();
        req.topics.back().topic = tp.topic;
      }
      proto::FetchRequest::FetchTopic::FetchPartition p;
      p.partition = tp.partition;
      p.fetch_offset = it->second.fetch_pos;
      p.partition_max_bytes = cfg_.max_partition_fetch_bytes;
      p.current_leader_epoch = -1;
      p.log_start_offset = -1;
      req.topics[ti->second].partitions.push_back(p);
    }
  }
  // Sent on the raw connection so the response buffer is kept as it arrived (see
  // the data path in consumer.h); Cluster::call would decode it into copies.
  using Traits = ApiTraits<proto::FetchRequest>;
  Result<ResponseFrame> frame = Error::network("no connection");
  int16_t version = -1;
  auto conn = co_await cluster_->connection(leader);
  if (conn.ok()) {
    auto c = *conn;
    version = c->version_for(proto::FetchRequest::kApiKey, Traits::kMin, Traits::kMax);
    if (version < 0) {
      frame = Error{errc::kUnsupportedVersion, "Fetch versions 4-12 are not supported by " + c->address()};
    } else {
      wire::Writer w;
      req.encode(w, version);
      frame = co_await c->roundtrip_frame(proto::FetchRequest::kApiKey, version, std::move(w.buffer()),
                                          std::chrono::milliseconds(cfg_.fetch_max_wait_ms + 30000));
      if (!frame.ok() && !c->alive()) cluster_->drop(leader, c);
    }
  }
  fetching_.erase(leader);
  std::shared_ptr<const ResponseFrame> shared;
  std::optional<FetchResponseView> resp;
  if (frame.ok()) {
    shared = std::make_shared<const ResponseFrame>(std::move(*frame));
    resp = parse_fetch_response(shared->body(), version);
  }
  if (!resp || resp->error_code != 0) {
    co_await sleep_for(cluster_->io(), 100);
    (void)co_await cluster_->refresh_metadata({}, false);
    fetch_wake_->cancel();
    co_return;
  }
  bool got = false, refresh = false;
  std::vector<TopicPartition> out_of_range;
  {
    std::lock_guard lock(mu_);
    for (auto& t : resp->topics)
      for (auto& p : t.partitions) {
        TopicPartition tp{std::string(t.topic), p.partition};
        auto a = asked.find(tp);
        auto it = parts_.find(tp);
        if (a == asked.end() || it == parts_.end() || a->second.epoch != it->second.epoch) continue;   // reassigned or seeked
        auto& st = it->second;
        if (p.error_code == errc::kOffsetOutOfRange) { out_of_range.push_back(tp); continue; }
        if (p.error_code != 0) { refresh = true; continue; }
        FetchedRecords fr(shared, p.records, a->second.offset);
        if (fr.done()) continue;   // nothing new (or only a batch cut at the end)
        st.fetch_pos = fr.next_fetch_offset();
        st.fetched.push_back(std::move(fr));
        got = true;
      }
  }
  // Queue the next Fetch before anyone decodes this one.
  fetch_wake_->cancel();
  if (got) cv_.notify_all();
  if (!out_of_range.empty()) {
    if (cfg_.auto_offset_reset == "none") {
      std::lock_guard lock(mu_);
      fatal_ = Error{errc::kOffsetOutOfRange, "fetch position out of range and auto.offset.reset=none"};
      cv_.notify_all();
    } else {
      auto r = co_await list_offsets(out_of_range, cfg_.auto_offset_reset == "earliest" ? -2 : -1);
      if (r.ok()) for (auto& [tp, off] : *r) seek(tp, off);
    }
  }
  if (refresh) (void)co_await cluster_->refresh_metadata({}, false);
  fetch_wake_->cancel();
}

}  // namespace millrace::client

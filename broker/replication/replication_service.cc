#include "broker/replication/replication_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>

#include <boost/asio/post.hpp>

#include "broker/server/page_cache_probe.h"
#include "cluster/partition/replicator.h"
#include "raft/rpc/codec.h"
#include "raft/rpc/generated/raft_batch_request.h"
#include "raft/storage/hard_state_file.h"
#include "raft/storage/snapshot_file.h"
#include "storage/producer_state.h"

namespace millrace::broker {

namespace asio = boost::asio;
using storage::Errc;
using storage::Status;

namespace {

constexpr int16_t kNotLeader = 6;

Status not_leader(const std::string& why) { return Status(Errc::kClosed, why); }

}  // namespace

// One replica's face towards its Partition. detach() (the service stopping, or
// the replica dropped) makes it refuse produces as a follower would.
class ReplicationService::Member : public cluster::Replicator {
 public:
  Member(ReplicationService* service, int64_t group, cluster::LeadershipFacts facts)
      : service_(service), group_(group), facts_(std::move(facts)) {}

  cluster::Replicated replicate(std::span<uint8_t> records, int16_t acks, asio::any_io_executor ex) override {
    ReplicationService* service;
    {
      // Not held across the call: the service thread takes the service's
      // mutex, then this one (set_facts).
      std::lock_guard lock(mu_);
      service = service_;
    }
    if (!service) return {not_leader("this replica is closed"), nullptr};
    // The service outlives every request (the servers stop first); a replica
    // dropped meanwhile is not found there.
    return service->replicate(group_, records, acks, std::move(ex));
  }
  cluster::LeadershipFacts facts() const override {
    std::lock_guard lock(mu_);
    return facts_;
  }
  cluster::LogStartMove move_log_start(Offset offset, asio::any_io_executor ex) override {
    ReplicationService* service;
    {
      std::lock_guard lock(mu_);
      service = service_;
    }
    if (!service) return {not_leader("this replica is closed"), nullptr};
    return service->move_log_start(group_, offset, std::move(ex));
  }
  // Returns whether they changed.
  bool set_facts(cluster::LeadershipFacts f) {
    std::lock_guard lock(mu_);
    if (f == facts_) return false;
    facts_ = std::move(f);
    return true;
  }
  void detach() {
    std::lock_guard lock(mu_);
    service_ = nullptr;
    facts_.leader = -1;
  }

 private:
  mutable std::mutex mu_;
  ReplicationService* service_;  // GUARDED_BY(mu_)
  const int64_t group_;
  cluster::LeadershipFacts facts_;  // GUARDED_BY(mu_)
};

ReplicationService::ReplicationService(ReplicationOptions options, cluster::PartitionManager& partitions)
    : opts_(options),
      partitions_(partitions),
      work_(asio::make_work_guard(io_)),
      timer_(io_),
      set_(options.me, options.election_ticks, options.quiesce_ticks, options.io_threads,
           static_cast<int>(std::max<int64_t>(1, options.lag_time_max_ms / std::max(1, options.tick_ms)))) {
  set_.set_learner_rate(options.learner_rate, options.tick_ms);
  set_.set_follower_rate(options.follower_rate);
}

ReplicationService::~ReplicationService() { stop(); }

void ReplicationService::start() {
  thread_ = std::thread([this] { io_.run(); });
  asio::post(io_, [this] { on_tick(); });
}

void ReplicationService::stop() {
  if (stopped_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);
    for (auto& [g, group] : groups_) group.member->detach();
  }
  asio::post(io_, [this] {
    timer_.cancel();
    for (auto& [id, l] : links_) l->stop();
    for (auto& [id, l] : forward_links_) l.first->stop();
    fail_elections();
    work_.reset();
  });
  if (thread_.joinable()) thread_.join();
  // Produces still waiting learn that their outcome is unknown.
  std::lock_guard lock(mu_);
  for (auto& [g, group] : groups_) set_.remove(g);
}

size_t ReplicationService::replicas() const {
  std::lock_guard lock(mu_);
  return set_.size();
}

size_t ReplicationService::leaders() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [g, group] : groups_)
    if (auto* r = set_.peek(g); r && r->is_leader()) ++n;
  return n;
}

// ---- produce ----

cluster::Replicated ReplicationService::replicate(int64_t g, std::span<uint8_t> records, int16_t acks,
                                                  asio::any_io_executor ex) {
  auto refuse = [](Status st) { return cluster::Replicated{std::move(st), nullptr}; };
  std::unique_lock lock(mu_);
  cluster::PartitionReplica* r = set_.get(g);
  if (!r || !r->is_leader()) return refuse(not_leader("this broker is not the partition's leader"));
  auto headers = r->storage().check_batches(records);
  if (!headers.ok()) return refuse(headers.status());
  // The leader alone satisfies min.insync.replicas=1 (the default): the
  // in-sync set is counted only when more are required.
  if (const int32_t min_isr = acks == -1 ? r->storage().min_insync_replicas() : 1; min_isr > 1) {
    const size_t live = live_in_sync_locked(*r).size();
    if (live < static_cast<size_t>(min_isr))
      return refuse(Status(Errc::kNotEnoughReplicas, "min.insync.replicas is " + std::to_string(min_isr) + ", " +
                                                         std::to_string(live) + " replicas are in sync and alive"));
  }
  const int32_t term = r->term();
  // Producers' states as the batches proposed but not appended yet leave
  // them: entries of another term (maybe cut) or already in the log are
  // dropped, the log's producer state covers those.
  auto& pend = pending_[g];
  for (auto it = pend.begin(); it != pend.end();)
    it = it->second.term != term || it->second.last_offset < r->log_end() ? pend.erase(it) : std::next(it);

  storage::AppendResult res;
  res.base_offset = Offset(-1);
  size_t duplicates = 0, proposed = 0, pos = 0;
  const int64_t now = storage::system_clock_ms();
  for (const auto& h : *headers) {
    auto span = records.subspan(pos, h.total_size());
    pos += h.total_size();
    const storage::ProducerBatchInfo info = storage::producer_info(h);
    Pending* p = nullptr;
    if (info.producer_id >= 0) {
      auto [it, inserted] = pend.try_emplace(info.producer_id);
      p = &it->second;
      if (inserted) {
        p->term = term;
        if (auto e = r->storage().producer_entry(info.producer_id)) p->entry = *e;
      }
      storage::SequenceCheck c = storage::ProducerStateManager::check_entry(p->entry, info);
      if (!c.status.ok()) return refuse(c.status);
      if (c.duplicate) {
        if (proposed > 0) return refuse(Status(Errc::kOutOfOrderSequence, "a duplicate batch after new ones"));
        if (duplicates++ == 0) res.base_offset = Offset(c.base_offset);
        res.last_offset = Offset(c.last_offset);
        continue;
      }
    }
    if (duplicates > 0) return refuse(Status(Errc::kOutOfOrderSequence, "new batches after duplicate ones"));
    auto out = r->propose(std::vector<uint8_t>(span.begin(), span.end()), h.last_offset_delta + 1);
    if (out.error != 0) {
      // Later batches of this append are not proposed; those before stand.
      if (proposed > 0) break;
      return refuse(not_leader(out.message));
    }
    if (proposed++ == 0) res.base_offset = Offset(out.first);
    res.last_offset = Offset(out.last);
    if (p) {
      storage::ProducerStateManager::apply(p->entry, info, out.first, out.last, h.max_timestamp, now);
      p->last_offset = out.last;
    }
  }
  res.duplicate = proposed == 0;
  res.log_start_offset = r->storage().log_start_offset();
  const int64_t last = res.last_offset.value();
  std::shared_ptr<cluster::AckWait> a;
  if (acks == 0 || (res.duplicate && last < r->high_watermark())) {
    a = cluster::AckWait::done(Status::Ok(), ex);
  } else {
    a = cluster::AckWait::pending(ex);
#ifdef MILLRACE_UNSAFE_LEADER_ACK
    // Deliberately wrong (tests/chaos's proof that its checker catches lost
    // writes): acks=all answered on the leader's own append.
    const auto all = cluster::ReplicaAck::kAppended;
#else
    const auto all = cluster::ReplicaAck::kCommitted;
#endif
    // A duplicate waits for its original entry, which may be an earlier
    // term's (proposed by the previous leader, in this log uncommitted): it
    // is answered once committed, not refused for its term.
    r->wait(last, term, acks == -1 || res.duplicate ? all : cluster::ReplicaAck::kAppended,
            [a](int16_t e) {
              cluster::AckWait::complete(a, e == 0 ? Status::Ok()
                                                   : not_leader("leadership moved before the batch was committed; "
                                                                "its outcome is unknown, retry"));
            },
            res.duplicate ? r->term_at(last) : -1);
  }
  lock.unlock();
  schedule_drive();
  return {res, std::move(a)};
}

// ---- DeleteRecords ----

cluster::LogStartMove ReplicationService::move_log_start(int64_t g, Offset offset, asio::any_io_executor ex) {
  std::unique_lock lock(mu_);
  cluster::PartitionReplica* r = set_.get(g);
  if (!r || !r->is_leader()) return {not_leader("this broker is not the partition's leader"), nullptr};
  auto out = r->propose_log_start(offset.value());
  if (out.error == 1) return {Status(Errc::kOffsetOutOfRange, out.message), nullptr};
  if (out.error != 0) return {not_leader(out.message), nullptr};
  auto a = cluster::AckWait::pending(ex);
  r->wait(out.last, out.term, cluster::ReplicaAck::kCommitted, [a](int16_t e) {
    cluster::AckWait::complete(a, e == 0 ? Status::Ok()
                                         : not_leader("leadership moved before the log start was committed; "
                                                      "its outcome is unknown, retry"));
  });
  lock.unlock();
  schedule_drive();
  return {Status::Ok(), std::move(a)};
}

// ---- the service thread ----

void ReplicationService::schedule_drive() {
  if (drive_scheduled_.exchange(true)) return;
  asio::post(io_, [this] {
    drive_scheduled_.store(false);
    std::map<int32_t, std::vector<raft::Message>> out;
    {
      std::lock_guard lock(mu_);
      drive_locked(out);
    }
    send(std::move(out));
    flush_serving();
  });
}

void ReplicationService::on_tick() {
  if (stopped_.load()) return;
  std::map<int32_t, std::vector<raft::Message>> out;
  {
    std::lock_guard lock(mu_);
    const std::set<int32_t> silent_before = set_.silent_peers();
    set_.tick();
    steer_locked();
    drive_locked(out);
    // A peer that fell silent (or spoke again) changes the in-sync sets of
    // the groups led here, driven or not.
    if (set_.silent_peers() != silent_before)
      for (const auto& [g, group] : groups_)
        if (const auto* r = set_.peek(g); r && r->is_leader()) refresh_locked(g);
  }
  send(std::move(out));
  flush_serving();
  report();
  leader_duties();
  if (++ticks_ % kDurabilitySweepTicks == 0) apply_topic_configs();
  if (incomplete_ && image_) reconcile_now();
  timer_.expires_after(std::chrono::milliseconds(opts_.tick_ms));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) on_tick();
  });
}

void ReplicationService::deliver(int32_t from, std::vector<raft::Message> messages) {
  // Leaving (controlled shutdown): no leadership is taken over by transfer,
  // or brokers stopping together would hand it round among themselves.
  if (leaving_.load())
    std::erase_if(messages, [](const raft::Message& m) { return m.type == raft::MessageType::kTimeoutNow; });
  asio::post(io_, [this, from, messages = std::move(messages)] {
    std::map<int32_t, std::vector<raft::Message>> out;
    {
      std::lock_guard lock(mu_);
      set_.heard_from(from);
      set_.deliver(messages);
      drive_locked(out);
    }
    send(std::move(out));
    flush_serving();
  });
}

void ReplicationService::drive_locked(std::map<int32_t, std::vector<raft::Message>>& out) {
  std::vector<std::pair<int64_t, Status>> failed;
  std::vector<int64_t> driven;
  out = set_.drive(&failed, &driven);
  for (const auto& [g, st] : failed) {
    auto it = groups_.find(g);
    if (it == groups_.end()) continue;
    spdlog::error("event=replica_failed topic={} partition={} error=\"{}\" state=offline", it->second.tp.topic,
                  it->second.tp.partition, st.to_string());
    it->second.member->detach();
    set_serving_locked(it->second, Serving::kNone);
    pending_.erase(g);
  }
  for (int64_t g : driven) refresh_locked(g);
}

std::vector<int32_t> ReplicationService::live_in_sync_locked(const cluster::PartitionReplica& r) const {
  std::vector<int32_t> out = r.in_sync();
  std::erase_if(out, [&](int32_t id) { return id != opts_.me && set_.is_silent(id); });
  return out;
}

void ReplicationService::set_serving_locked(Group& group, Serving s) {
  if (group.serving == s) return;
  group.serving = s;
  serving_events_.emplace_back(group.tp, s);
}

void ReplicationService::refresh_locked(int64_t g) {
  auto it = groups_.find(g);
  const cluster::PartitionReplica* r = set_.peek(g);
  if (it == groups_.end() || !r) return;
  Group& group = it->second;
  const cluster::LeadershipFacts before = group.member->facts();
  cluster::LeadershipFacts f;
  f.leader = r->leader();
  f.leader_epoch = LeaderEpoch(r->term());
  f.replicas = group.assignment.replicas;
  // In sync: holds every committed entry and was heard from within an
  // election timeout (docs/cluster.md).
  f.isr = r->is_leader() ? live_in_sync_locked(*r) : before.isr;
  const bool changed = group.member->set_facts(f);
  if (before.leader != f.leader || before.leader_epoch != f.leader_epoch)
    spdlog::info("event=partition_leader topic={} partition={} leader={} leader_epoch={}", group.tp.topic,
                 group.tp.partition, f.leader, f.leader_epoch.value());
  // Parked fetches wake only when there is something new for them: the
  // commit moved the high watermark, or leadership changed.
  const int64_t hw = r->high_watermark();
  if (changed || hw != group.high_watermark) {
    group.high_watermark = hw;
    if (auto p = partitions_.get(group.tp)) p->notify_hw_moved();
  }
  if (r->is_leader() &&
      (!group.has_reported || group.reported.leader != f.leader || group.reported.leader_epoch != r->term() ||
       group.reported.isr != f.isr))
    unreported_.insert(g);
  // Serving: leading, and everything the log held when leadership came is
  // committed (the new term's first entry with it).
  if (!r->is_leader()) {
    set_serving_locked(group, Serving::kNone);
  } else if (group.serving == Serving::kNone || before.leader_epoch != f.leader_epoch) {
    group.serve_from = r->log_end();
    set_serving_locked(group, Serving::kLoading);
  }
  if (group.serving == Serving::kLoading && hw >= group.serve_from) set_serving_locked(group, Serving::kServing);
}

raft::Durability ReplicationService::durability_of(const storage::Log& log) const {
  return log.write_caching() ? raft::Durability::kInMemory : opts_.durability;
}

// A topic's write.caching or throttled-replicas lists changed: each replica
// follows within a second (the next sweep); durability for entries appended
// from then on.
void ReplicationService::apply_topic_configs() {
  std::lock_guard lock(mu_);
  for (const auto& [g, group] : groups_) {
    const cluster::PartitionReplica* peek = set_.peek(g);
    if (!peek) continue;
    const raft::Durability want = durability_of(peek->storage());
    if (peek->durability() != want) set_.get(g)->set_durability(want);
    const cluster::ThrottleScope scope = throttle_of(peek->storage(), group.tp.partition);
    if (peek->throttle() != scope) set_.set_throttle(g, scope);
  }
}

cluster::ThrottleScope ReplicationService::throttle_of(const storage::Log& log, int32_t partition) const {
  const auto [leader, follower] = log.throttled_replicas();
  return {cluster::throttled_by(leader, partition, opts_.me), cluster::throttled_by(follower, partition, opts_.me)};
}

void ReplicationService::flush_serving() {
  std::vector<std::pair<storage::TopicPartition, Serving>> events;
  {
    std::lock_guard lock(mu_);
    events.swap(serving_events_);
  }
  if (observer_)
    for (const auto& [tp, s] : events) observer_(tp, s);
}

void ReplicationService::send(std::map<int32_t, std::vector<raft::Message>> out) {
  for (auto& [to, msgs] : out) {
    if (to == opts_.me) continue;
    auto l = link(to);
    if (!l) continue;  // not in any image yet: Raft resends
    // Catch-up appends carry their large batches as file ranges (sendfile).
    auto g = raft::rpc::encode_batch_gathered(raft::NodeId(opts_.me), raft::NodeId(to), msgs);
    if (g.splices.empty()) {
      l->request(raft::rpc::RaftBatchRequest::kApiKey, raft::rpc::kBatchVersion, std::move(g.bytes));
      continue;
    }
    std::vector<PeerLink::FileSplice> splices;
    splices.reserve(g.splices.size());
    for (const auto& s : g.splices) {
      // Cold pages are read into the page cache here, where the entries were
      // read before (this thread), not by sendfile on the link's io thread.
      if (!range_cached(s.file->fd, s.file->position, s.file->length))
        warm_range(s.file->fd, s.file->position, s.file->length);
      splices.push_back({s.at, s.file->keep, s.file->fd, s.file->position, s.file->length});
    }
    l->request(raft::rpc::RaftBatchRequest::kApiKey, raft::rpc::kBatchVersion, std::move(g.bytes), std::move(splices));
  }
}

std::shared_ptr<PeerLink> ReplicationService::link(int32_t broker) {
  auto it = links_.find(broker);
  if (it != links_.end()) return it->second;
  auto a = addresses_.find(broker);
  if (a == addresses_.end()) return nullptr;
  auto l = std::make_shared<PeerLink>(io_, opts_.me, broker, a->second.first, static_cast<uint16_t>(a->second.second));
  // Its process gone (refused, not silent): the groups it led here elect
  // another leader within a few ticks, not an election timeout.
  l->on_refused([this, broker] {
    std::map<int32_t, std::vector<raft::Message>> out;
    {
      std::lock_guard lock(mu_);
      set_.peer_unreachable(broker);
      drive_locked(out);
    }
    send(std::move(out));
    flush_serving();
  });
  l->start();
  links_[broker] = l;
  return l;
}

void ReplicationService::wipe_replica(cluster::Partition& p) {
  auto log = p.log();
  if (!log) return;
  auto st = log->truncate_fully_and_start_at(Offset(0));
  std::error_code ec;
  std::filesystem::remove(log->dir() / raft::kHardStateFileName, ec);
  std::filesystem::remove(log->dir() / raft::kSnapshotFileName, ec);
  spdlog::info("event=replica_removed topic={} partition={} wiped={}", p.tp().topic, p.tp().partition, st.ok());
}

// Reassignments: each group led here whose image asks for other voters than
// it runs on takes one step (PartitionReplica::steer: learners, then joint
// consensus); once it runs on the target while the image still shows the move,
// its voters go with its next leadership report, every kSteerReportTicks, until
// the controller's record ends the move. A group with nothing to change leaves
// the set.
void ReplicationService::steer_locked() {
  for (auto it = steering_.begin(); it != steering_.end();) {
    auto g = groups_.find(*it);
    const cluster::PartitionReplica* peek = set_.peek(*it);
    if (g == groups_.end() || !peek) {
      it = steering_.erase(it);
      continue;
    }
    Group& group = g->second;
    const auto& a = group.assignment;
    const bool moving = !a.adding.empty() || !a.removing.empty();
    if (!peek->is_leader()) {
      group.voters_to_report.clear();
      if (moving) {
        ++it;  // its leader steers; this one watches while the move lasts (it may lead next)
      } else {
        it = steering_.erase(it);  // the leader ends what a finished or cancelled move left
      }
      continue;
    }
    auto done = set_.get(*it)->steer(a);
    if (done && !moving) {  // on the replicas, no move: nothing left to do
      group.voters_to_report.clear();
      it = steering_.erase(it);
      continue;
    }
    if (done && (group.voters_to_report != *done || ticks_ % kSteerReportTicks == 0)) {
      group.voters_to_report = *done;
      unreported_.insert(*it);
    }
    ++it;
  }
}

void ReplicationService::report() {
  if (!sink_ || reporting_) return;
  std::vector<LeadershipChange> changes;
  std::vector<int64_t> ids;
  {
    std::lock_guard lock(mu_);
    for (auto it = unreported_.begin(); it != unreported_.end();) {
      auto g = groups_.find(*it);
      const cluster::PartitionReplica* r = set_.peek(*it);
      if (g == groups_.end() || !r || !r->is_leader()) {
        it = unreported_.erase(it);
        continue;
      }
      auto f = g->second.member->facts();
      changes.push_back({g->second.topic_id, g->second.tp.partition, f.leader, f.leader_epoch.value(), f.isr,
                         g->second.voters_to_report});
      ids.push_back(*it);
      ++it;
    }
  }
  if (changes.empty()) return;
  reporting_ = true;
  sink_(changes, [this, changes, ids](int16_t error) {
    asio::post(io_, [this, changes, ids, error] {
      reporting_ = false;
      if (error != 0) return;  // retried at the next tick
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < ids.size(); ++i) {
        auto g = groups_.find(ids[i]);
        if (g == groups_.end()) continue;
        g->second.reported = changes[i];
        g->second.has_reported = true;
        auto f = g->second.member->facts();
        if (f.leader == changes[i].leader && f.leader_epoch.value() == changes[i].leader_epoch &&
            f.isr == changes[i].isr && g->second.voters_to_report.empty())
          unreported_.erase(ids[i]);
      }
    });
  });
}

// ---- placement ----

void ReplicationService::reconcile(std::shared_ptr<const cluster::MetadataImage> image) {
  if (!image || stopped_.load()) return;
  asio::post(io_, [this, image = std::move(image)] {
    if (image_ && image_->version() > image->version()) return;
    image_ = image;
    reconcile_now();
  });
}

void ReplicationService::reconcile_now() {
  const cluster::MetadataImage& image = *image_;
  incomplete_ = false;
  {
    std::lock_guard lock(mu_);
    candidates_ = image.leader_candidates();
  }
  for (const auto& b : image.brokers()) {
    if (b.id == opts_.me) continue;
    auto& a = addresses_[b.id];
    if (a.first != b.host || a.second != b.port) {
      a = {b.host, b.port};
      if (auto l = links_.find(b.id); l != links_.end()) {
        l->second->stop();
        links_.erase(l);
      }
    }
  }
  std::set<int64_t> placed;
  std::vector<std::pair<storage::TopicPartition, std::shared_ptr<cluster::Replicator>>> attach;
  std::vector<storage::TopicPartition> detach;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, topic] : image.topics())
      for (const auto& p : topic.partitions) {
        if (p.replicas.size() < 2 || std::find(p.replicas.begin(), p.replicas.end(), opts_.me) == p.replicas.end())
          continue;
        const int64_t g = cluster::group_id(topic.id, p.index);
        placed.insert(g);
        if (auto open = groups_.find(g); open != groups_.end()) {
          // A reorder changes the preferred leader only; a reassignment the
          // voters, which the group's leader steers toward (on_tick).
          auto& a = open->second.assignment;
          if (a.replicas != p.replicas || a.adding != p.adding || a.removing != p.removing) {
            const bool was_moving = !a.adding.empty() || !a.removing.empty();
            a = {p.replicas, p.adding, p.removing};
            if (was_moving || !p.adding.empty() || !p.removing.empty()) steering_.insert(g);
          }
          continue;
        }
        storage::TopicPartition tp{name, p.index};
        auto partition = partitions_.get(tp);
        if (!partition || partition->is_offline()) {
          incomplete_ = incomplete_ || !partition;  // the topic table has not made its log yet
          continue;
        }
        partition->log()->set_manual_high_watermark();
        // A replica added by a reassignment joins the group the others run
        // (no configuration of its own until the leader's learner entry).
        const bool joining = std::find(p.adding.begin(), p.adding.end(), opts_.me) != p.adding.end();
        if (auto st = set_.add(g, partition->log(), p.replicas, durability_of(*partition->log()), joining, p.adding);
            !st.ok()) {
          spdlog::error("event=replica_open_failed topic={} partition={} error=\"{}\"", name, p.index, st.to_string());
          placed.erase(g);
          continue;
        }
        set_.set_throttle(g, throttle_of(*partition->log(), p.index));
        // A new group (term 0): its first replica campaigns at once, so the
        // partition has a leader, the preferred one, a round trip after its
        // creation rather than an election timeout.
        if (p.replicas.front() == opts_.me) {
          auto* fresh = set_.get(g);
          if (fresh && fresh->term() == 0) fresh->campaign();
        }
        cluster::LeadershipFacts f{-1, LeaderEpoch(0), p.replicas, {}};
        auto member = std::make_shared<Member>(this, g, f);
        groups_[g] = Group{topic.id, tp, {p.replicas, p.adding, p.removing}, {}, member, {}, false, -1};
        if (!p.adding.empty() || !p.removing.empty()) steering_.insert(g);
        attach.emplace_back(tp, member);
        spdlog::info("event=replica_opened topic={} partition={} replicas={}", name, p.index, p.replicas.size());
      }
    for (auto it = groups_.begin(); it != groups_.end();) {
      if (placed.count(it->first)) {
        ++it;
        continue;
      }
      it->second.member->detach();
      set_serving_locked(it->second, Serving::kNone);
      set_.remove(it->first);
      pending_.erase(it->first);
      unreported_.erase(it->first);
      steering_.erase(it->first);
      detach.push_back(it->second.tp);
      it = groups_.erase(it);
    }
  }
  for (auto& [tp, member] : attach)
    if (auto p = partitions_.get(tp)) p->set_replicator(member);
  for (auto& tp : detach) {
    auto p = partitions_.get(tp);
    if (!p) continue;
    p->set_replicator(nullptr);
    // Moved off this broker (the partition lives on without it: its group
    // committed voters without this one): its replica's files go, so a later
    // move back starts clean, as a joining replica, and not from a stale
    // configuration that still names it.
    const cluster::TopicImage* t = image.topic(tp.topic);
    if (t && tp.partition < static_cast<int32_t>(t->partitions.size())) {
      const auto& now = t->partitions[tp.partition].replicas;
      if (std::find(now.begin(), now.end(), opts_.me) == now.end()) wipe_replica(*p);
    }
  }
  // A replica opened here serves nothing until it leads (a state machine
  // loaded from its log before, at start, is unloaded).
  if (observer_)
    for (auto& [tp, member] : attach) observer_(tp, Serving::kNone);
  flush_serving();
  if (!attach.empty()) schedule_drive();
}

// ---- controlled shutdown ----

void ReplicationService::transfer_leadership(int64_t wait_ms) {
  // Each partition led here goes to a live in-sync replica on a broker that
  // may lead (the image's leader candidates: not fenced, not shutting down
  // too, so a whole cluster stopping does not bounce leadership around). It
  // is handed over once this replica follows a known new leader (that leader
  // has our vote and its first append). Partitions with no such replica stay
  // until the process exits (the others elect after it).
  leaving_.store(true);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    size_t leading = 0, handing = 0;
    {
      std::lock_guard lock(mu_);
      for (auto& [g, group] : groups_) {
        const cluster::PartitionReplica* peek = set_.peek(g);
        if (!peek) continue;
        if (!peek->is_leader()) {
          handing += group.handed_over && peek->leader() < 0;
          continue;
        }
        ++leading;
        auto isr = live_in_sync_locked(*peek);
        auto to = std::find_if(isr.begin(), isr.end(), [&](int32_t id) {
          return id != opts_.me && (candidates_.empty() || candidates_.count(id) > 0);
        });
        if (to == isr.end()) {
          --leading;  // no one to hand it to
          continue;
        }
        group.handed_over = true;
        set_.get(g)->transfer_leadership(*to);
      }
    }
    if (leading + handing == 0 || std::chrono::steady_clock::now() >= until) {
      if (leading > 0) spdlog::warn("event=leadership_transfer_incomplete still_leading={}", leading);
      return;
    }
    schedule_drive();
    std::this_thread::sleep_for(std::chrono::milliseconds(opts_.tick_ms));
  }
}

}  // namespace millrace::broker

#include "cluster/replication/partition_replica.h"

#include <algorithm>

#include "raft/storage/entry_batch.h"
#include "raft/storage/write_ready.h"

namespace millrace::cluster {
namespace {

constexpr int16_t kOffsetOutOfRange = 1;   // OFFSET_OUT_OF_RANGE
constexpr int16_t kNotLeader = 6;          // NOT_LEADER_OR_FOLLOWER
constexpr int16_t kRequestTimedOut = 7;    // REQUEST_TIMED_OUT: back-pressure, retry
constexpr int16_t kUnknownServerError = -1;

}  // namespace

storage::Result<std::unique_ptr<PartitionReplica>> PartitionReplica::open(std::shared_ptr<storage::Log> log,
                                                                         const PartitionReplicaOptions& options) {
  std::unique_ptr<PartitionReplica> r(new PartitionReplica());
  r->storage_ = std::move(log);
  auto l = raft::PartitionRaftLog::open(r->storage_, raft::PartitionRaftLogOptions{.env = nullptr, .clock = options.clock, .file_span_min_bytes = options.file_span_min_bytes});
  if (!l.ok()) return l.status();
  r->log_ = std::move(*l);
  r->hard_state_ = std::make_unique<raft::HardStateFile>(r->storage_->dir() / raft::kHardStateFileName);
  auto hs = r->hard_state_->read();
  if (!hs.ok()) return hs.status();
  // A group's first configuration: its replicas but those a reassignment is
  // adding (they join as learners, so the replica that holds the partition
  // keeps taking writes while they catch up).
  raft::Config first;
  for (int32_t id : options.replicas)
    if (std::find(options.adding.begin(), options.adding.end(), id) == options.adding.end())
      first.voters.push_back(raft::NodeId(id));
  if (first.voters.empty())
    for (int32_t id : options.replicas) first.voters.push_back(raft::NodeId(id));
  std::sort(first.voters.begin(), first.voters.end());
  first.voters.erase(std::unique(first.voters.begin(), first.voters.end()), first.voters.end());
  const bool never_ran = *hs == raft::HardState{} && r->log_->snapshot().config.voters.empty() &&
                         r->log_->config_entries().empty() && !options.joining;
  if (never_ran && first.voters.empty())
    return storage::Status(storage::Errc::kInvalidArgument, "a new partition replica needs its replicas");
  if (never_ran && r->log_->last() < raft::Index(0)) {
    // A new group: its first configuration stands below offset 0.
    if (!r->log_->install_snapshot(raft::SnapshotMeta{raft::Index(-1), raft::Term(0), first}))
      return r->log_->last_error();
  } else if (never_ran) {
    // A log that never ran Raft (replication factor 1 until a reassignment
    // added replicas): what it holds was acknowledged by its only replica, so
    // it is committed in the first configuration, which stands below its
    // start; the term starts at its last batch's epoch, never behind its log.
    if (!r->log_->adopt_config(first)) return r->log_->last_error();
    raft::HardState adopt;
    adopt.term = r->log_->term_at(r->log_->last()).value_or(raft::Term(0));
    const int64_t hw = r->storage_->high_watermark().value();
    adopt.commit = std::min(r->log_->last(), raft::Index(hw - 1));
    if (auto st = r->hard_state_->write(adopt); !st.ok()) return st;
    *hs = adopt;
  }
  raft::Options o;
  o.id = raft::NodeId(options.me);
  o.group = raft::GroupId(options.group);
  o.election_ticks = options.election_ticks;
  o.quiesce_ticks = options.quiesce_ticks;
  o.durability = options.durability;
  o.seed = options.seed;
  if (options.learner_budget)
    o.learner_budget = [f = options.learner_budget](raft::NodeId to) { return f(static_cast<int32_t>(to.value())); };
  if (options.learner_sent)
    o.learner_sent = [f = options.learner_sent](raft::NodeId to, size_t bytes) {
      f(static_cast<int32_t>(to.value()), bytes);
    };
  o.throttles = [p = r.get()](raft::NodeId to, bool learner) {
    return p->throttles(static_cast<int32_t>(to.value()), learner);
  };
  o.intake_limit = [p = r.get()](const raft::Message& m, bool behind) { return p->intake_limit(m, behind); };
  r->me_ = options.me;
  r->follower_window_ = options.follower_window;
  r->lag_ticks_ = std::max(1, options.lag_ticks);
  r->raft_ = std::make_unique<raft::Raft>(o, *r->log_, *hs);
  r->log_->set_commit(r->raft_->commit());  // consumers read up to the restored commit at once
  // The only replica leads at once (replication factor 1): no one to wait for.
  const auto& c = r->raft_->config();
  if (c.voters.size() == 1 && c.voters.front() == o.id && !c.joint()) r->raft_->campaign();
  return r;
}

PartitionReplica::~PartitionReplica() {
  // The commit, written lazily while running (write_ready.h), is kept for the
  // next start when it can be; a failure here changes nothing (it is advisory).
  if (raft_ && hard_state_) {
    raft::HardState hs = raft_->hard_state();
    if (!hard_state_->must_write_now(hs) && hs.commit > hard_state_->last_written().commit)
      (void)hard_state_->write(hs);
  }
  // Whoever still waits learns nothing more: the outcome is unknown.
  auto waiters = std::move(waiters_);
  for (auto& [last, w] : waiters) w.done(kNotLeader);
}

PartitionReplica::Proposed PartitionReplica::propose(std::vector<uint8_t> batch, int32_t record_count) {
  return propose_entry(std::move(batch), record_count, raft::EntryType::kData);
}

PartitionReplica::Proposed PartitionReplica::propose_log_start(int64_t offset) {
  if (offset < 0 || offset > high_watermark()) {
    Proposed out;
    out.error = kOffsetOutOfRange;
    out.message = "log start " + std::to_string(offset) + " outside [0, high watermark " +
                  std::to_string(high_watermark()) + "]";
    return out;
  }
  return propose_entry(raft::encode_log_start(Offset(offset)), 1, raft::EntryType::kLogStart);
}

PartitionReplica::Proposed PartitionReplica::propose_entry(std::vector<uint8_t> payload, int32_t record_count,
                                                           raft::EntryType type) {
  Proposed out;
  auto p = raft_->propose(std::make_shared<const std::vector<uint8_t>>(std::move(payload)), record_count, type);
  if (!p.ok()) {
    switch (p.error) {
      case raft::ProposeError::kNotLeader:
      case raft::ProposeError::kTransferring:
        out.error = kNotLeader;
        break;
      case raft::ProposeError::kTooMuchUncommitted:
        out.error = kRequestTimedOut;
        break;
      default:
        out.error = kUnknownServerError;
    }
    out.message = p.message.empty() ? raft::to_string(p.error) : p.message;
    return out;
  }
  out.last = p.last.value();
  out.first = out.last - record_count + 1;
  out.term = static_cast<int32_t>(p.term.value());
  return out;
}

void PartitionReplica::tick() {
  raft_->tick();
  ++ticks_;
  if (!is_leader()) caught_up_.clear();  // a new leadership judges afresh
}

void PartitionReplica::step(const raft::Message& m) {
  raft_->step(m);
  const bool answer = (m.type == raft::MessageType::kAppendResponse && !m.reject) ||
                      m.type == raft::MessageType::kHeartbeatResponse;
  if (!answer || !is_leader()) return;
  auto p = raft_->progress(m.from);
  if (!p) return;
  const int64_t commit = raft_->commit().value();
  const int64_t match = p->match.value();
  Answered& a = caught_up_[static_cast<int32_t>(m.from.value())];
  if (match >= commit) a.caught_up = ticks_;
  else if (a.at >= 0 && match >= a.commit) a.caught_up = std::max(a.caught_up, a.at);
  a.at = ticks_;
  a.commit = commit;
}

void PartitionReplica::forget_caught_up(int32_t broker) { caught_up_.erase(broker); }

std::optional<std::vector<int32_t>> PartitionReplica::steer(const Assignment& a) {
  if (!is_leader()) return std::nullopt;
  auto ids = [](const std::vector<int32_t>& v) {
    std::vector<raft::NodeId> out;
    for (int32_t b : v) out.push_back(raft::NodeId(b));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };
  std::vector<int32_t> target_ids;
  for (int32_t b : a.replicas)
    if (std::find(a.removing.begin(), a.removing.end(), b) == a.removing.end()) target_ids.push_back(b);
  const std::vector<raft::NodeId> target = ids(target_ids);
  if (target.empty()) return std::nullopt;
  const raft::Config& c = raft_->config();
  if (c.joint()) return std::nullopt;  // C_new follows on its own once C_old,new commits
  std::vector<raft::NodeId> joining;
  for (raft::NodeId n : target)
    if (!c.is_voter(n)) joining.push_back(n);
  if (joining.empty() && c.voters == target) {
    if (!c.learners.empty()) raft_->propose_config(raft::Config{target, {}, {}});  // learners left over
    else return target_ids;
    return std::nullopt;
  }
  if (c.learners != joining) {  // first the new replicas as learners (and no others)
    raft_->propose_config(raft::Config{c.voters, {}, joining});
    return std::nullopt;
  }
  const raft::Index commit = raft_->commit();
  for (raft::NodeId n : joining) {
    auto p = raft_->progress(n);
    if (!p || p->match < commit) return std::nullopt;  // still catching up
  }
  raft_->propose_config(raft::Config{target, {}, {}});
  return std::nullopt;
}

std::vector<int32_t> PartitionReplica::in_sync() const {
  std::vector<int32_t> out;
  if (!is_leader()) return out;
  const raft::Index commit = raft_->commit();
  for (raft::NodeId v : raft_->config().voters) {
    const auto id = static_cast<int32_t>(v.value());
    if (v == raft::NodeId(leader())) {
      out.push_back(id);
      continue;
    }
    auto p = raft_->progress(v);
    auto seen = caught_up_.find(id);
    if ((p && p->match >= commit) ||
        (seen != caught_up_.end() && seen->second.caught_up >= 0 && ticks_ - seen->second.caught_up < lag_ticks_))
      out.push_back(id);
  }
  return out;
}

bool PartitionReplica::throttles(int32_t to, bool learner) const {
  switch (throttle_.leader) {
    case Throttled::kNone: return false;
    case Throttled::kLearners: return learner;
    case Throttled::kOutOfSync: {
      if (learner) return true;
      const auto isr = in_sync();
      return std::find(isr.begin(), isr.end(), to) == isr.end();
    }
  }
  return learner;
}

bool PartitionReplica::catching_up(const raft::Message& m) const {
  if (m.type != raft::MessageType::kAppend || m.entries.empty()) return false;
  switch (throttle_.follower) {
    case Throttled::kNone: return false;
    case Throttled::kLearners: return learning();
    case Throttled::kOutOfSync: return learning() || m.entries.back().last <= m.commit;
  }
  return false;
}

size_t PartitionReplica::intake_limit(const raft::Message& m, bool behind) const {
  if (!follower_window_) return 0;
  const bool throttled = throttle_.follower == Throttled::kOutOfSync ? behind || catching_up(m)
                         : throttle_.follower == Throttled::kLearners ? learning()
                                                                       : false;
  return throttled ? follower_window_() : 0;
}

void PartitionReplica::wait(int64_t last, int32_t term, ReplicaAck ack, std::function<void(int16_t)> done,
                            int32_t entry_term) {
  waiters_.emplace(last, Waiter{term, entry_term < 0 ? term : entry_term, ack, std::move(done)});
  answer_waiters();
}

storage::Status PartitionReplica::drive(std::vector<raft::Message>& out) {
  if (!raft_->has_ready()) answer_waiters();  // finish() answers them otherwise
  for (int guard = 0; raft_->has_ready() && guard < 1000; ++guard) {
    raft::Ready rd = raft_->ready();
    // raft.h's driver order: persist (write_ready), send, commit, advance.
    if (auto st = persist(rd); !st.ok()) return st;
    finish(std::move(rd), out);
  }
  return {};
}

std::optional<raft::Ready> PartitionReplica::take_ready() {
  if (!raft_->has_ready()) return std::nullopt;
  return raft_->ready();
}

storage::Status PartitionReplica::persist(const raft::Ready& rd) {
  return raft::write_ready(*log_, *hard_state_, rd, raft::CommitWrites::kLazy);
}

void PartitionReplica::finish(raft::Ready rd, std::vector<raft::Message>& out) {
  for (auto& m : rd.messages) out.push_back(std::move(m));
  if (rd.commit) log_->set_commit(*rd.commit);
  raft_->advance(rd);
  answer_waiters();
}

void PartitionReplica::answer_waiters() {
  if (waiters_.empty()) return;
  const bool leading = is_leader();
  const int32_t now_term = term();
  const int64_t commit = raft_->commit().value();
  const int64_t end = log_->last().value();
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    const int64_t last = it->first;
    const Waiter& w = it->second;
    const bool reached = w.ack == ReplicaAck::kCommitted ? last <= commit : last <= end;
    int16_t answer = -2;  // still waiting
    if (reached) {
      auto t = log_->term_at(raft::Index(last));
      answer = t && t->value() == w.entry_term ? 0 : kNotLeader;  // another term's entry there: it was cut
    } else if (!leading || now_term != w.term) {
      answer = kNotLeader;  // leadership moved before it got there: outcome unknown
    }
    if (answer == -2) {
      ++it;
      continue;
    }
    auto done = std::move(it->second.done);
    it = waiters_.erase(it);
    done(answer);
  }
}

}  // namespace millrace::cluster

// The leader's side of replication: appends (probe one at a time, pipelined
// within the inflight window once the logs meet), heartbeats, the answers to
// both, the commit rule (§5.4: only own-term entries commit by counting) and
// proposals.
#include <algorithm>

#include "raft/raft_impl.h"

namespace millrace::raft {

PeerProgress* Raft::Impl::peer(NodeId id) {
  for (PeerProgress& p : peers)
    if (p.id() == id) return &p;
  return nullptr;
}

const PeerProgress* Raft::Impl::peer(NodeId id) const {
  for (const PeerProgress& p : peers)
    if (p.id() == id) return &p;
  return nullptr;
}

bool Raft::Impl::send_append(PeerProgress& pr, bool send_if_empty) {
  if (pr.paused()) return false;
  Index prev = pr.next() - 1;
  std::optional<Term> prev_term = view.term_at(prev);
  if (!prev_term) {
    send_snapshot(pr);  // it needs entries below our log start
    return true;
  }
  std::vector<Entry> es;
  size_t limit = opts.max_append_bytes;  // 0: one entry a message
  // A peer pacing its intake gets one append of at most what it asked for at a time.
  const bool windowed = pr.intake() > 0;
  if (windowed) limit = limit == 0 ? 0 : std::min(limit, pr.intake());
  const bool throttled = opts.learner_budget && pr.next() <= view.last() &&
                         (opts.throttles ? opts.throttles(pr.id(), pr.learner()) : pr.learner());
  const size_t budget = throttled ? opts.learner_budget(pr.id()) : 0;
  if (throttled && budget > 0) limit = limit == 0 ? 0 : std::min(limit, budget);
  if (pr.next() <= view.last() && (!throttled || budget > 0) && !(windowed && pr.awaiting()))
    es = view.entries(pr.next(), limit);
  if (es.empty() && !send_if_empty) return false;  // throttled learners wait for a later tick
  if (throttled && !es.empty() && opts.learner_sent) {
    size_t bytes = 0;
    for (const Entry& e : es) bytes += e.bytes();
    opts.learner_sent(pr.id(), bytes);
  }
  Message m;
  m.to = pr.id();
  m.type = MessageType::kAppend;
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = commit;
  bool had = !es.empty();
  Index last = had ? es.back().last : prev;
  m.entries = std::move(es);
  pr.sent(last, had);
  send(std::move(m));
  return true;
}

void Raft::Impl::send_snapshot(PeerProgress& pr) {
  Message m;
  m.to = pr.id();
  m.type = MessageType::kSnapshot;
  m.snapshot = view.snapshot();
  pr.become_snapshot(m.snapshot.index);
  send(std::move(m));
}

void Raft::Impl::bcast_append(bool send_if_empty) {
  for (PeerProgress& p : peers) send_append(p, send_if_empty);
}

void Raft::Impl::bcast_heartbeat(bool quiesce) {
  ++heartbeat_round;
  for (const PeerProgress& p : peers) {
    Message m;
    m.to = p.id();
    m.type = MessageType::kHeartbeat;
    m.commit = std::min(commit, p.match());  // never ahead of what it is known to hold
    m.context = heartbeat_round | (quiesce ? kQuiesceBit : 0);
    send(std::move(m));
  }
}

bool Raft::Impl::idle_and_caught_up() const {
  if (role != Role::kLeader || transfer_target != kNoNode || config.joint() || pending_conf_index > commit ||
      commit != view.last() || self_match != view.last())
    return false;
  for (const PeerProgress& p : peers)
    if (p.match() != view.last() || !p.recent_active()) return false;
  return true;
}

void Raft::Impl::quiesce() {
  bcast_heartbeat(/*quiesce=*/true);
  quiesced = true;
  idle_ticks = 0;
}

void Raft::Impl::unquiesce() {
  idle_ticks = 0;
  if (!quiesced) return;
  quiesced = false;
  if (role == Role::kLeader) {
    heartbeat_elapsed = 0;
    election_elapsed = 0;  // a fresh CheckQuorum round: the silence was not the peers' fault
    for (PeerProgress& p : peers) p.set_recent_active(true);
    bcast_heartbeat();
  }
}

void Raft::Impl::maybe_send_timeout_now(PeerProgress& pr) {
  if (transfer_target != pr.id() || pr.match() != view.last()) return;
  Message m;
  m.to = pr.id();
  m.type = MessageType::kTimeoutNow;
  send(std::move(m));
}

void Raft::Impl::handle_append_response(const Message& m) {
  PeerProgress* pr = peer(m.from);
  if (pr == nullptr) return;
  pr->set_recent_active(true);
  pr->set_intake(static_cast<size_t>(m.context));
  if (m.reject) {
    // Where to probe next: our last entry at or below the follower's hint
    // whose term is not newer than the hint's (skips a divergent term at once).
    // Strictly below the rejected prev, and an entry boundary of ours.
    Index probe = std::min(m.hint_index, m.index - 1);
    if (probe >= view.start() - 1) probe = view.find_at_or_below(probe, m.hint_term);
    if (pr->maybe_decrease(m.index, probe)) {
      if (pr->state() == Progress::State::kReplicate) pr->become_probe();
      send_append(*pr, true);
    }
    return;
  }
  bool was_paused = pr->paused();
  if (!pr->maybe_update(m.index)) return;  // stale or duplicate
  switch (pr->state()) {
    case Progress::State::kProbe:
      pr->become_replicate();
      break;
    case Progress::State::kSnapshot:
      if (pr->match() >= pr->pending_snapshot()) {
        pr->become_probe();
        pr->become_replicate();
      }
      break;
    case Progress::State::kReplicate:
      break;
  }
  if (maybe_commit()) {
    // The commit may have changed the config (leaving a joint config
    // appends C_new) and with it the peer list: look the peer up again.
    if (role != Role::kLeader) return;  // C_new without us was committed
    bcast_append(true);  // carries the new commit index
    pr = peer(m.from);
    if (pr == nullptr) return;
  } else if (was_paused) {
    send_append(*pr, true);  // it may not know the commit index yet
  }
  while (send_append(*pr, false)) {
  }
  maybe_send_timeout_now(*pr);
}

void Raft::Impl::handle_heartbeat_response(const Message& m) {
  PeerProgress* pr = peer(m.from);
  if (pr == nullptr) return;
  pr->set_recent_active(true);
  pr->on_heartbeat_response();
  if (pr->state() == Progress::State::kSnapshot) pr->become_probe();  // the snapshot or its answer was lost: retry
  if (pr->match() < view.last()) send_append(*pr, true);
  maybe_send_timeout_now(*pr);
}

Index Raft::Impl::quorum_index() const {
  auto match_of = [&](NodeId n) -> std::optional<Index> {
    if (n == opts.id) return self_match;
    const PeerProgress* p = peer(n);
    if (p == nullptr) return std::nullopt;
    return p->match();
  };
  Index in = majority_index(config.voters, match_of);
  // The bug: a joint configuration counted by its new half alone.
  if (bug(Bug::kLeaveJointEarly)) return in;
  return std::min(in, majority_index(config.outgoing, match_of));
}

bool Raft::Impl::maybe_commit() {
  if (role != Role::kLeader) return false;
  Index q = quorum_index();
  if (q <= commit) return false;
  std::optional<Term> t = view.term_at(q);
  // §5.4: an entry of an earlier term is committed only as the prefix of one of ours.
  bool own_term = t && *t == term;
  if (bug(Bug::kCommitOldTermByCounting)) own_term = t.has_value();
  if (!own_term) return false;
  commit_to(q);
  after_leader_commit();
  return true;
}

void Raft::Impl::after_leader_commit() {
  while (!uncommitted.empty() && uncommitted.front().first <= commit) {
    uncommitted_bytes -= uncommitted.front().second;
    uncommitted.pop_front();
  }
  if (config_index > commit) return;
  if (config.joint()) {
    // C_old,new is committed: move on to C_new.
    Config next;
    next.voters = config.voters;
    next.learners = config.learners;
    for (NodeId n : leave_learners)
      if (!next.is_voter(n) && !next.is_learner(n)) next.learners.push_back(n);
    std::sort(next.learners.begin(), next.learners.end());
    leave_learners.clear();
    auto bytes = std::make_shared<const std::vector<uint8_t>>(next.encode());
    append_own(EntryType::kVoters, std::move(bytes), 1);
    bcast_append(false);
    return;
  }
  if (!config.is_voter(opts.id)) become_follower(term, kNoNode);  // C_new without us is committed
}

void Raft::Impl::append_own(EntryType type, Payload data, int32_t record_count) {
  Entry e;
  e.first = view.last() + 1;
  e.last = e.first + (record_count - 1);
  e.term = term;
  e.type = type;
  e.data = std::move(data);
  if (type == EntryType::kVoters) pending_conf_index = e.last;
  append_entry(std::move(e));
}

ProposeResult Raft::Impl::propose(Payload data, int32_t record_count, EntryType type) {
  ProposeResult r;
  if (role == Role::kLeader) unquiesce();
  if (role != Role::kLeader) {
    r.error = ProposeError::kNotLeader;
    r.message = "not the leader";
    return r;
  }
  if (transfer_target != kNoNode) {
    r.error = ProposeError::kTransferring;
    r.message = "leadership is being transferred";
    return r;
  }
  if (record_count < 1) {
    r.error = ProposeError::kInvalidConfig;
    r.message = "record_count must be at least 1";
    return r;
  }
  if (type != EntryType::kData && (type != EntryType::kLogStart || record_count != 1)) {
    r.error = ProposeError::kInvalidConfig;
    r.message = "only data and single-offset log start entries may be proposed";
    return r;
  }
  size_t bytes = data ? data->size() : 0;
  if (opts.max_uncommitted_bytes != 0 && uncommitted_bytes > 0 && uncommitted_bytes + bytes > opts.max_uncommitted_bytes) {
    r.error = ProposeError::kTooMuchUncommitted;
    r.message = "too many uncommitted bytes";
    return r;
  }
  append_own(type, std::move(data), record_count);
  r.last = view.last();
  r.term = term;
  uncommitted.emplace_back(r.last, bytes);
  uncommitted_bytes += bytes;
  bcast_append(false);
  return r;
}

}  // namespace millrace::raft

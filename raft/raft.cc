// Raft: construction, roles, timers, elections and the Ready hand-off.
// See raft_impl.h for how the implementation is split.
#include "raft/raft.h"

#include <algorithm>
#include <cassert>

#include "raft/raft_impl.h"

namespace millrace::raft {

const char* to_string(Role r) {
  switch (r) {
    case Role::kFollower: return "Follower";
    case Role::kPreCandidate: return "PreCandidate";
    case Role::kCandidate: return "Candidate";
    case Role::kLeader: return "Leader";
  }
  return "?";
}

const char* to_string(Bug b) {
  switch (b) {
    case Bug::kNone: return "None";
    case Bug::kVoteWithoutUpToDateCheck: return "VoteWithoutUpToDateCheck";
    case Bug::kCommitOldTermByCounting: return "CommitOldTermByCounting";
    case Bug::kVoteBeforeSync: return "VoteBeforeSync";
    case Bug::kAcceptStaleTermAppend: return "AcceptStaleTermAppend";
    case Bug::kAckBeforeSync: return "AckBeforeSync";
    case Bug::kNoTruncateOnConflict: return "NoTruncateOnConflict";
    case Bug::kLeaveJointEarly: return "LeaveJointEarly";
    case Bug::kQuiescentIgnoresLeaderVote: return "QuiescentIgnoresLeaderVote";
  }
  return "?";
}

const char* to_string(ProposeError e) {
  switch (e) {
    case ProposeError::kOk: return "Ok";
    case ProposeError::kNotLeader: return "NotLeader";
    case ProposeError::kTransferring: return "Transferring";
    case ProposeError::kTooMuchUncommitted: return "TooMuchUncommitted";
    case ProposeError::kConfigInFlight: return "ConfigInFlight";
    case ProposeError::kInvalidConfig: return "InvalidConfig";
  }
  return "?";
}

bool Ready::empty() const {
  return !soft_state && !hard_state && !snapshot && !truncate_from && entries.empty() && !must_sync &&
         messages.empty() && !commit;
}

namespace {
uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

Raft::Impl::Impl(Options options, Log& l, HardState restored) : opts(std::move(options)), log(l), view(l) {
  if (opts.election_ticks < 1) opts.election_ticks = 1;
  if (opts.heartbeat_ticks < 1) opts.heartbeat_ticks = 1;
  term = restored.term;
  vote = restored.vote;
  // The commit index is advisory on disk: never below the log start (what
  // retention dropped was committed), never beyond what the log holds.
  commit = std::clamp(restored.commit, view.start() - 1, std::max(view.start() - 1, view.last()));
  rng = opts.seed ^ (static_cast<uint64_t>(static_cast<uint32_t>(opts.id.value())) * 0xD6E8FEB86659FD93ull) ^
        (static_cast<uint64_t>(opts.group.value()) << 17);
  load_config();
  prev_soft = soft();
  prev_hard = hard();
  prev_commit = commit;
  reset_election_timer();
}

bool Raft::Impl::bug([[maybe_unused]] Bug b) const {
#ifdef MILLRACE_RAFT_BUGS
  return opts.bug == b;
#else
  return false;
#endif
}

void Raft::Impl::reset_election_timer() {
  election_elapsed = 0;
  heartbeat_elapsed = 0;
  // [T, 2T): no two nodes keep colliding.
  randomized_timeout = opts.election_ticks + static_cast<int>(splitmix64(rng) % static_cast<uint64_t>(opts.election_ticks));
}

void Raft::Impl::reset(Term t) {
  if (term != t) {
    term = t;
    vote = kNoNode;
  }
  leader = kNoNode;
  reset_election_timer();
  votes.clear();
  abort_transfer();
  peers.clear();
  quiesced = false;
  idle_ticks = 0;
  uncommitted.clear();
  uncommitted_bytes = 0;
  leave_learners.clear();
}

void Raft::Impl::become_follower(Term t, NodeId lead) {
  reset(t);
  role = Role::kFollower;
  leader = lead;
}

void Raft::Impl::become_pre_candidate() {
  // No term change and no vote: only asks whether an election could be won.
  role = Role::kPreCandidate;
  leader = kNoNode;
  votes.clear();
  peers.clear();
  abort_transfer();
  reset_election_timer();
  poll(opts.id, true);
  if (tally() == VoteResult::kWon) {
    become_candidate(false);
    return;
  }
  for (NodeId n : config.all()) {
    if (n == opts.id || !config.is_voter(n)) continue;
    Message m;
    m.to = n;
    m.type = MessageType::kPreVote;
    m.term = term + 1;
    m.index = view.last();
    m.log_term = view.last_term();
    send(std::move(m));
  }
}

void Raft::Impl::become_candidate(bool transfer) {
  reset(term + 1);
  vote = opts.id;
  role = Role::kCandidate;
  poll(opts.id, true);
  if (tally() == VoteResult::kWon) {
    become_leader();
    return;
  }
  for (NodeId n : config.all()) {
    if (n == opts.id || !config.is_voter(n)) continue;
    Message m;
    m.to = n;
    m.type = MessageType::kVote;
    m.term = term;
    m.index = view.last();
    m.log_term = view.last_term();
    m.transfer = transfer;
    send(std::move(m));
  }
}

void Raft::Impl::become_leader() {
  reset(term);
  role = Role::kLeader;
  leader = opts.id;
  self_match = view.stable_last();
  sync_peers();
  // A change proposed by an earlier leader may still be uncommitted: no new
  // one until everything up to here is.
  pending_conf_index = view.last();
  // §5.4: an entry of our own term, so that counting can commit the rest.
  append_own(EntryType::kLeaderChange, nullptr, 1);
  bcast_append(false);
}

void Raft::Impl::campaign(bool transfer) {
  if (!promotable() || role == Role::kLeader) return;
  if (opts.pre_vote && !transfer) {
    become_pre_candidate();
  } else {
    become_candidate(transfer);
  }
}

void Raft::Impl::poll(NodeId from, bool granted) {
  for (auto& v : votes)
    if (v.first == from) return;  // first answer counts (duplicates)
  votes.emplace_back(from, granted);
}

VoteResult Raft::Impl::tally() const {
  return joint_vote(config, [&](NodeId n) -> std::optional<bool> {
    for (const auto& v : votes)
      if (v.first == n) return v.second;
    return std::nullopt;
  });
}

void Raft::Impl::tick() {
  if (quiesced) return;  // silent until woken (Options::quiesce_ticks)
  if (role == Role::kLeader) {
    if (opts.quiesce_ticks > 0) {
      idle_ticks = idle_and_caught_up() ? idle_ticks + 1 : 0;
      if (idle_ticks >= opts.quiesce_ticks) {
        quiesce();
        return;
      }
    }
    ++heartbeat_elapsed;
    ++election_elapsed;
    if (transfer_target != kNoNode && ++transfer_elapsed >= opts.election_ticks) abort_transfer();
    if (election_elapsed >= opts.election_ticks) {
      election_elapsed = 0;
      if (opts.check_quorum) {
        VoteResult active = joint_vote(config, [&](NodeId n) -> std::optional<bool> {
          if (n == opts.id) return true;
          const PeerProgress* p = peer(n);
          return p != nullptr && p->recent_active();
        });
        if (active != VoteResult::kWon) {
          become_follower(term, kNoNode);  // cannot reach a quorum: stop accepting writes
          return;
        }
        for (PeerProgress& p : peers) p.set_recent_active(false);
      }
    }
    if (heartbeat_elapsed >= opts.heartbeat_ticks) {
      heartbeat_elapsed = 0;
      bcast_heartbeat();
    }
    return;
  }
  // A node that may not campaign (a learner, or not in the config) lets the
  // count run on, so its lease on the last leader it heard expires and it
  // answers (pre)votes again.
  if (election_elapsed < (1 << 30)) ++election_elapsed;
  if (promotable() && election_elapsed >= randomized_timeout) {
    election_elapsed = 0;
    campaign(false);
  }
}

void Raft::Impl::send(Message m) {
  m.group = opts.group;
  m.from = opts.id;
  if (m.term == Term(0)) m.term = term;
  msgs.push_back(std::move(m));
}

void Raft::Impl::commit_to(Index i) {
  if (i <= commit) return;
  assert(i <= view.last() || bug(Bug::kNoTruncateOnConflict));  // never commit what this node does not hold
  commit = i;
  trim_config_history();
}

bool Raft::Impl::has_ready() const {
  return soft() != prev_soft || hard() != prev_hard || view.has_pending() || !msgs.empty() || commit != prev_commit;
}

Ready Raft::Impl::ready() {
  Ready rd;
  SoftState ss = soft();
  if (ss != prev_soft) {
    rd.soft_state = ss;
    prev_soft = ss;
  }
  HardState hs = hard();
  bool term_or_vote = hs.term != prev_hard.term || hs.vote != prev_hard.vote;
  if (hs != prev_hard) {
    rd.hard_state = hs;
    prev_hard = hs;
  }
  rd.snapshot = view.pending_snapshot();
  rd.truncate_from = view.pending_truncate();
  rd.entries = view.unstable();
  bool log_changed = rd.snapshot || rd.truncate_from || !rd.entries.empty();
  rd.must_sync = term_or_vote || (opts.durability == Durability::kSynced && log_changed);
  if (bug(Bug::kAckBeforeSync) && role != Role::kLeader) rd.must_sync = term_or_vote;
  rd.messages = std::move(msgs);
  msgs.clear();
  if (commit != prev_commit) {
    rd.commit = commit;
    prev_commit = commit;
  }
  return rd;
}

void Raft::Impl::advance(const Ready& rd) {
  view.stable(rd.snapshot.has_value(), rd.truncate_from.has_value(), rd.entries.size());
  if (role == Role::kLeader && !rd.entries.empty()) {
    // The leader's own entries count once written (kInMemory) or synced (kSynced).
    bool counts = opts.durability == Durability::kInMemory || rd.must_sync;
    Index l = std::min(rd.entries.back().last, view.last());
    if (counts && l > self_match) {
      self_match = l;
      if (maybe_commit()) bcast_append(true);
    }
  }
}

// --- Raft: the public face ---

Raft::Raft(Options options, Log& log, HardState restored)
    : impl_(std::make_unique<Impl>(std::move(options), log, restored)) {}
Raft::~Raft() = default;

void Raft::tick() { impl_->tick(); }
void Raft::step(const Message& m) { impl_->step(m); }
ProposeResult Raft::propose(Payload data, int32_t record_count, EntryType type) {
  return impl_->propose(std::move(data), record_count, type);
}
ProposeResult Raft::propose_config(const Config& target) { return impl_->propose_config(target); }
bool Raft::transfer_leadership(NodeId to) { return impl_->transfer_leadership(to); }
void Raft::campaign() { impl_->campaign(false); }
bool Raft::quiesced() const { return impl_->quiesced; }
void Raft::set_durability(Durability d) { impl_->opts.durability = d; }
Durability Raft::durability() const { return impl_->opts.durability; }
void Raft::wake() {
  if (!impl_->quiesced) return;
  if (impl_->role != Role::kLeader) {
    impl_->quiesced = false;
    impl_->election_elapsed = 0;  // a full election timeout from now, unless the leader is heard
    return;
  }
  impl_->unquiesce();
}
void Raft::leader_unreachable(NodeId node) {
  Impl& r = *impl_;
  if (r.role != Role::kFollower || node == kNoNode || r.leader != node || !r.promotable()) return;
  r.leader = kNoNode;  // no lease on it: votes are judged on the logs alone
  r.quiesced = false;
  // The survivors campaign in turn, by rank among the other voters: the
  // first after 1 tick, the next 3 ticks later, and so on. Every survivor
  // gets the same hint at about the same time, and two campaigning together
  // would split the vote (two survivors of three always would). The order is
  // a hash of (group, node): each group has its own, so the dead broker's
  // partitions spread over the survivors instead of all going to one.
  auto order = [&](NodeId n) {
    uint64_t s = static_cast<uint64_t>(r.opts.group.value()) * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(n.value());
    return splitmix64(s);
  };
  const uint64_t mine = order(r.opts.id);
  int rank = 0;
  for (NodeId v : r.config.all())
    if (v != node && v != r.opts.id && r.config.is_voter(v) && order(v) < mine) ++rank;
  const int soon = 1 + 3 * rank;
  r.election_elapsed = std::max(r.election_elapsed, r.randomized_timeout - soon);
}
bool Raft::has_ready() const { return impl_->has_ready(); }
Ready Raft::ready() { return impl_->ready(); }
void Raft::advance(const Ready& rd) { impl_->advance(rd); }
NodeId Raft::id() const { return impl_->opts.id; }
Role Raft::role() const { return impl_->role; }
Term Raft::term() const { return impl_->term; }
NodeId Raft::leader() const { return impl_->leader; }
Index Raft::commit() const { return impl_->commit; }
Index Raft::last_index() const { return impl_->view.last(); }
const Config& Raft::config() const { return impl_->config; }
HardState Raft::hard_state() const { return impl_->hard(); }

std::optional<Progress> Raft::progress(NodeId follower) const {
  if (impl_->role != Role::kLeader) return std::nullopt;
  if (follower == impl_->opts.id) {
    Progress p;
    p.state = Progress::State::kReplicate;
    p.match = impl_->self_match;
    p.next = impl_->view.last() + 1;
    p.recent_active = true;
    return p;
  }
  const PeerProgress* p = impl_->peer(follower);
  if (p == nullptr) return std::nullopt;
  return p->view();
}

}  // namespace millrace::raft

// Raft::Impl::step: the term rules every message passes first, votes, and the
// follower's side of appends, heartbeats and snapshots.
#include <algorithm>

#include "raft/raft_impl.h"

namespace millrace::raft {

namespace {
bool is_vote_request(MessageType t) { return t == MessageType::kPreVote || t == MessageType::kVote; }
bool is_from_leader(MessageType t) {
  return t == MessageType::kAppend || t == MessageType::kHeartbeat || t == MessageType::kSnapshot;
}
}  // namespace

void Raft::Impl::respond(const Message& m, MessageType type, Term t, bool reject) {
  Message r;
  r.to = m.from;
  r.type = type;
  r.term = t;
  r.reject = reject;
  send(std::move(r));
}

void Raft::Impl::step(const Message& m) {
  if (m.to != opts.id || m.from == opts.id || m.from == kNoNode || m.group != opts.group) return;
  // A quiescent leader that hears anything but the answer to its last beat
  // (a restarted follower's PreVote, say) wakes and beats again.
  if (quiesced && role == Role::kLeader && m.type != MessageType::kHeartbeatResponse) unquiesce();
  // A quiescent follower asked for its vote by the very node it follows:
  // that node lost its leadership (it restarted faster than anyone noticed
  // its silence). Wake, with the lease on it over, so the vote is judged on
  // the logs alone; from anyone else the lease still holds.
  if (quiesced && role == Role::kFollower && m.from == leader && is_vote_request(m.type) &&
      !bug(Bug::kQuiescentIgnoresLeaderVote)) {
    quiesced = false;
    election_elapsed = opts.election_ticks;
  }

  if (m.term > term) {
    if (is_vote_request(m.type)) {
      // Leader lease: a follower that heard from a live leader within the
      // election timeout ignores candidates, unless the leader itself asked
      // for the election (TimeoutNow). Without CheckQuorum there is no lease.
      bool in_lease = opts.check_quorum && leader != kNoNode && election_elapsed < opts.election_ticks;
      if (in_lease && !m.transfer) return;
    }
    if (m.type == MessageType::kPreVote) {
      // A PreVote never moves our term.
    } else if (m.type == MessageType::kPreVoteResponse && !m.reject) {
      // A grant carries the term we would take; we take it only on a quorum.
    } else if (is_from_leader(m.type)) {
      become_follower(m.term, m.from);
    } else {
      // Includes a rejection at a higher term: a (pre)candidate stuck below
      // the cluster's term joins it (etcd issue 9586).
      become_follower(m.term, kNoNode);
    }
  } else if (m.term < term) {
    if (m.type == MessageType::kAppend && bug(Bug::kAcceptStaleTermAppend)) {
      handle_append(m);
      return;
    }
    if ((opts.check_quorum || opts.pre_vote) && (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A leader of an older term (perhaps cut off, or stuck with a term a
      // PreVote-blocked node inflated): tell it our term so it steps down and
      // the cluster converges instead of ignoring it forever.
      respond(m, MessageType::kAppendResponse, term, true);
    } else if (m.type == MessageType::kPreVote) {
      // Reject with our term, so a pre-candidate behind us catches up.
      respond(m, MessageType::kPreVoteResponse, term, true);
    }
    return;
  }

  if (is_vote_request(m.type)) {
    handle_vote_request(m);
    return;
  }

  switch (role) {
    case Role::kLeader:
      if (m.type == MessageType::kAppendResponse) handle_append_response(m);
      else if (m.type == MessageType::kHeartbeatResponse) handle_heartbeat_response(m);
      return;  // two leaders in one term cannot happen; anything else is stale
    case Role::kPreCandidate:
    case Role::kCandidate:
      if (is_from_leader(m.type)) {
        become_follower(term, m.from);  // someone won this term
        break;
      }
      if ((role == Role::kPreCandidate && m.type == MessageType::kPreVoteResponse) ||
          (role == Role::kCandidate && m.type == MessageType::kVoteResponse))
        handle_vote_response(m);
      return;
    case Role::kFollower:
      break;
  }

  // Follower.
  switch (m.type) {
    case MessageType::kAppend:
      election_elapsed = 0;
      leader = m.from;
      quiesced = false;
      handle_append(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed = 0;
      leader = m.from;
      handle_heartbeat(m);
      // The leader's last beat before it goes quiet: quiesce too when this
      // replica holds exactly what it commits (else keep the clock running).
      quiesced = (m.context & kQuiesceBit) != 0 && view.last() == m.commit && commit == m.commit;
      break;
    case MessageType::kSnapshot:
      election_elapsed = 0;
      leader = m.from;
      quiesced = false;
      handle_snapshot(m);
      break;
    case MessageType::kTimeoutNow:
      campaign(true);  // skips PreVote; our Vote says transfer so leases yield
      break;
    default:
      break;
  }
}

void Raft::Impl::handle_vote_request(const Message& m) {
  bool pre = m.type == MessageType::kPreVote;
  MessageType resp = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  bool can_vote = vote == m.from || (vote == kNoNode && leader == kNoNode) || (pre && m.term > term);
  Term lt = view.last_term();
  bool up_to_date = m.log_term > lt || (m.log_term == lt && m.index >= view.last());
  if (bug(Bug::kVoteWithoutUpToDateCheck)) up_to_date = true;
  const bool abstaining = opts.abstain_until >= Index(0) && view.last() < opts.abstain_until;
  if (!can_vote || !up_to_date || abstaining) {
    respond(m, resp, term, true);
    return;
  }
  // A PreVote grant carries the candidate's future term; a Vote ours (= its).
  respond(m, resp, pre ? m.term : term, false);
  if (!pre) {
    election_elapsed = 0;
    vote = m.from;
    // The bug: the vote is answered but never reaches Ready::hard_state.
    if (bug(Bug::kVoteBeforeSync)) prev_hard = hard();
  }
}

void Raft::Impl::handle_vote_response(const Message& m) {
  if (role == Role::kPreCandidate && !m.reject && m.term != term + 1) return;  // stale grant
  poll(m.from, !m.reject);
  switch (tally()) {
    case VoteResult::kWon:
      if (role == Role::kPreCandidate) become_candidate(false);
      else become_leader();
      break;
    case VoteResult::kLost:
      become_follower(term, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
}

void Raft::Impl::handle_append(const Message& m) {
  Message r;
  r.to = m.from;
  r.type = MessageType::kAppendResponse;
  if (opts.intake_limit) r.context = opts.intake_limit(m, false);
  if (m.index < commit) {
    // Everything up to our commit matches any leader's log: say how far.
    r.index = commit;
    send(std::move(r));
    return;
  }
  std::optional<Term> pt = view.term_at(m.index);
  if (!pt || *pt != m.log_term) {
    r.index = m.index;
    r.reject = true;
    if (opts.intake_limit) r.context = opts.intake_limit(m, true);
    // Our last entry at or below the leader's prev whose term is not newer
    // than its prev's: the leader skips a whole divergent term per round trip.
    r.hint_index = view.find_at_or_below(std::min(m.index, view.last()), m.log_term);
    r.hint_term = view.term_at(r.hint_index).value_or(Term(0));
    send(std::move(r));
    return;
  }
  Index verified = m.index;
  size_t k = 0;
  for (; k < m.entries.size(); ++k) {
    const Entry& e = m.entries[k];
    std::optional<Term> et = view.term_at(e.last);
    if (et && *et == e.term) {  // already held (a duplicate or reordered append)
      verified = e.last;
      continue;
    }
    if (e.first <= view.last()) {
      // A conflict: our suffix from here came from a deposed leader.
      if (bug(Bug::kNoTruncateOnConflict)) {
        verified = e.last;
        continue;
      }
      if (e.first <= commit) break;  // never truncate committed entries (cannot happen with a sane leader)
      truncate_from(e.first);
    }
    break;
  }
  for (; k < m.entries.size(); ++k) {
    const Entry& e = m.entries[k];
    if (e.first != view.last() + 1 || e.last < e.first) break;  // malformed: keep what is contiguous
    append_entry(e);
    verified = e.last;
  }
  commit_to(std::min(m.commit, verified));
  r.index = verified;
  send(std::move(r));
}

void Raft::Impl::handle_heartbeat(const Message& m) {
  commit_to(std::min(m.commit, view.last()));
  Message r;
  r.to = m.from;
  r.type = MessageType::kHeartbeatResponse;
  r.context = m.context;
  send(std::move(r));
}

void Raft::Impl::handle_snapshot(const Message& m) {
  const SnapshotMeta& s = m.snapshot;
  Message r;
  r.to = m.from;
  r.type = MessageType::kAppendResponse;
  if (s.index <= commit) {
    r.index = commit;
  } else if (view.term_at(s.index) == std::optional<Term>(s.term)) {
    commit_to(s.index);  // we hold it already: only learn that it is committed
    r.index = s.index;
  } else {
    install_snapshot(s);  // the driver restarts our log after s.index
    r.index = s.index;
  }
  send(std::move(r));
}

}  // namespace millrace::raft

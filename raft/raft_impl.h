// Raft::Impl: the state behind raft.h's Raft, shared by the files that
// implement it, one concern each:
//   raft.cc           construction, roles, tick, campaign, ready/advance
//   raft_step.cc      step(): term rules, votes, the follower's side of appends
//   replication.cc    the leader's side: appends, heartbeats, acks, commit, propose
//   config_change.cc  configurations (take effect when appended), transfers
// Internal header: nothing outside raft/ includes it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "raft/progress.h"
#include "raft/quorum.h"
#include "raft/raft.h"
#include "raft/raft_log_view.h"

namespace millrace::raft {

struct Raft::Impl {
  Impl(Options options, Log& log, HardState restored);

  // --- raft.cc ---
  void tick();
  void campaign(bool transfer);
  void become_follower(Term t, NodeId lead);
  void become_pre_candidate();
  void become_candidate(bool transfer);
  void become_leader();
  void reset(Term t);
  void reset_election_timer();
  // May campaign: a voter of the latest config, or, while that config is
  // uncommitted, of the one before it (a node being removed may hold the only
  // up-to-date log; if it could not campaign the joint config could never
  // finish).
  bool promotable() const;
  bool bug(Bug b) const;
  void send(Message m);
  void poll(NodeId from, bool granted);
  VoteResult tally() const;
  bool has_ready() const;
  Ready ready();
  void advance(const Ready& rd);
  HardState hard() const { return HardState{term, vote, commit}; }
  SoftState soft() const { return SoftState{role, term, leader}; }
  void commit_to(Index i);

  // --- raft_step.cc ---
  void step(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  void respond(const Message& m, MessageType type, Term t, bool reject);

  // --- replication.cc ---
  PeerProgress* peer(NodeId id);
  const PeerProgress* peer(NodeId id) const;
  bool send_append(PeerProgress& pr, bool send_if_empty);
  void send_snapshot(PeerProgress& pr);
  void bcast_append(bool send_if_empty);
  void bcast_heartbeat(bool quiesce = false);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  void maybe_send_timeout_now(PeerProgress& pr);
  Index quorum_index() const;
  bool maybe_commit();
  void after_leader_commit();
  ProposeResult propose(Payload data, int32_t record_count, EntryType type);
  void append_own(EntryType type, Payload data, int32_t record_count);

  // --- config_change.cc ---
  void load_config();
  void append_entry(Entry e);  // into the view; a kVoters entry takes effect now
  void truncate_from(Index from);  // and revert configs appended there
  void install_snapshot(const SnapshotMeta& s);
  void set_config(const Config& c, Index at);
  void sync_peers();
  void trim_config_history();
  ProposeResult propose_config(const Config& target);
  bool transfer_leadership(NodeId to);
  void abort_transfer() { transfer_target = kNoNode; transfer_elapsed = 0; }

  Options opts;
  Log& log;
  LogView view;

  // Persistent (HardState) and volatile state.
  Term term{0};
  NodeId vote = kNoNode;
  Index commit{-1};
  Role role = Role::kFollower;
  NodeId leader = kNoNode;

  // Timers, in ticks. election_elapsed: since the leader was last heard
  // (follower), since the campaign began (candidates), since the last
  // CheckQuorum round (leader).
  int election_elapsed = 0;
  int heartbeat_elapsed = 0;
  int randomized_timeout = 0;
  uint64_t rng = 0;

  // Configuration: `base` is in force before the first of `history` (each the
  // kVoters entry's index and its config); `config` is the latest (history's
  // last, or base). config_index: where it was appended (-1: the snapshot's).
  Config base;
  std::vector<std::pair<Index, Config>> history;
  Config config;
  Index config_index{-1};
  Index base_index{-1};  // where `base` took effect (the snapshot index)

  // Candidate: votes received (the node and whether granted).
  std::vector<std::pair<NodeId, bool>> votes;

  // Leader.
  std::vector<PeerProgress> peers;  // every node of config.all() except this one
  Index self_match{-1};             // own last offset that counts (synced, in kSynced)
  Index pending_conf_index{-1};     // a config change at or below this is in flight until committed
  std::vector<NodeId> leave_learners;  // demoted voters to keep as learners when the joint config is left
  NodeId transfer_target = kNoNode;
  int transfer_elapsed = 0;
  std::deque<std::pair<Index, size_t>> uncommitted;  // own data entries above commit: (last, bytes)
  size_t uncommitted_bytes = 0;
  uint64_t heartbeat_round = 0;

  // Quiescence (Options::quiesce_ticks).
  static constexpr uint64_t kQuiesceBit = uint64_t{1} << 62;  // in a heartbeat's context
  bool quiesced = false;
  int idle_ticks = 0;
  bool idle_and_caught_up() const;
  void quiesce();
  void unquiesce();  // a leader beats at once, so its followers wake too

  // Ready bookkeeping: what the last Ready reported.
  std::vector<Message> msgs;
  SoftState prev_soft;
  HardState prev_hard;
  Index prev_commit{-1};
};

}  // namespace millrace::raft

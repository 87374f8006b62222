// The leader's view of one replica (etcd's Progress and Inflights): how far
// its log matches (match), what to send next (next), and how to send:
//   probe      one append at a time until a response says where the logs meet
//   replicate  pipelined appends, at most max_inflight unacknowledged messages
//   snapshot   the replica needs entries below the log start: a kSnapshot was
//              sent; nothing else until it answers
// Owned by Raft::Impl (leader only), on the group's thread. The inflight
// window is a fixed ring allocated once per replica: no allocation per message.
#pragma once

#include <cstddef>
#include <vector>

#include "raft/raft.h"
#include "raft/types.h"

namespace millrace::raft {

// The last offsets of unacknowledged append messages, oldest first.
class Inflights {
 public:
  explicit Inflights(size_t capacity) : cap_(capacity == 0 ? 1 : capacity) {}
  bool full() const { return count_ >= cap_; }
  size_t count() const { return count_; }
  void add(Index last);
  void free_to(Index index);  // an ack up to `index` frees every message ending at or below it
  void free_first();          // a heartbeat answered: let one more message go (lost acks)
  void reset() { count_ = 0; head_ = 0; }

 private:
  size_t cap_;
  size_t head_ = 0;
  size_t count_ = 0;
  std::vector<Index> ring_;  // sized to cap_ on first add
};

class PeerProgress {
 public:
  PeerProgress(NodeId id, Index next, size_t max_inflight, bool learner);

  NodeId id() const { return id_; }
  const Progress& view() const { return pr_; }
  Progress::State state() const { return pr_.state; }
  Index match() const { return pr_.match; }
  Index next() const { return pr_.next; }
  bool learner() const { return pr_.learner; }
  void set_learner(bool l) { pr_.learner = l; }
  bool recent_active() const { return pr_.recent_active; }
  void set_recent_active(bool a) { pr_.recent_active = a; }
  Index pending_snapshot() const { return pending_snapshot_; }

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);
  // An acknowledgement up to n: true if it moved match.
  bool maybe_update(Index n);
  // A rejection of the append whose prev was `rejected`; `probe` is where to
  // try next (an entry boundary). False if stale.
  bool maybe_decrease(Index rejected, Index probe);
  // Nothing may be sent now (probe waiting, window full, snapshot pending).
  bool paused() const;
  // An append carrying entries up to `last` (or none: last < next) was sent.
  void sent(Index last, bool had_entries);
  // A heartbeat response came back: resume a waiting probe, free a slot.
  void on_heartbeat_response();
  void set_match_self(Index m) { pr_.match = m; pr_.next = m + 1; }
  // The bytes per append the peer last asked for (Options::intake_limit; 0:
  // none), and whether an append to it is still unanswered.
  size_t intake() const { return intake_; }
  void set_intake(size_t bytes) { intake_ = bytes; }
  bool awaiting() const { return inflights_.count() > 0; }

 private:
  NodeId id_;
  Progress pr_;
  bool probe_sent_ = false;
  Index pending_snapshot_{-1};
  Inflights inflights_;
  size_t intake_ = 0;
};

}  // namespace millrace::raft

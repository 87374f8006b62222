// A state machine on top of a simulated Raft group (raft/sim): optional. With
// one, the simulator's clients propose the application's payloads instead of
// random bytes, and every node's committed entries are handed to it in order,
// so it can keep one state per node and check them against each other (the
// controller's metadata state does: cluster/controller/sim). Without one the
// simulator runs exactly as before (same rng draws, same runs).
//
// The hooks follow a node's disk: on_restart() after a crash (rebuild from
// what survived: the application's own snapshots and the node's durable log),
// before_log_start() before retention drops a log prefix (the application
// must keep a snapshot at new_start - 1 first, as a real state machine writes
// its snapshot before the log is trimmed), on_snapshot() when the node
// installs a leader's snapshot, on_commit() whenever the commit index moves.
// A violation is kept in error(); the cluster stops the run on it.
//
// Threading: none; called by the one SimCluster that owns the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "raft/sim/sim_log.h"
#include "raft/types.h"

namespace millrace::raft::sim {

struct AppProposal {
  Payload data;
  int32_t records = 1;  // the entry's record count (offsets it occupies)
};

class SimApp {
 public:
  virtual ~SimApp() = default;

  // What to propose to `leader` (its log and commit index as they are) at
  // simulated step `now`; nullopt to propose nothing. `must`: the liveness
  // phase needs a proposal, return one.
  virtual std::optional<AppProposal> propose(int leader, Term term, const SimLog& log, Index commit, int64_t now,
                                             bool must) = 0;
  // Node `node` is up again (or for the first time) with `log` and `commit`.
  virtual void on_restart(int node, const SimLog& log, Index commit) = 0;
  // Retention is about to move node's log start to `new_start` (<= commit + 1).
  virtual void before_log_start(int node, const SimLog& log, Index new_start) = 0;
  // Node `node` installs the leader's snapshot `meta` (its log now starts after it).
  virtual void on_snapshot(int node, const SnapshotMeta& meta) = 0;
  // Node `node`'s commit index moved to `commit`.
  virtual void on_commit(int node, Index commit, const SimLog& log) = 0;

  virtual const std::string& error() const = 0;
};

}  // namespace millrace::raft::sim

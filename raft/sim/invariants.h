// The simulator's safety checker (raft/sim): Raft's safety properties,
// checked after every step of a simulated run. The cluster reports events as
// they happen (a node became leader, its commit index moved, it is about to
// truncate or install a snapshot, it restarted after a crash, a client got an
// acknowledgement) and calls check_step() after each step; the first
// violation is kept in error() and the run stops.
//
// Properties:
//   election safety      at most one leader per term, over the whole run
//   log matching         two logs with an entry of the same index and term
//                        are identical up to it (checked on the overlapping
//                        range, incrementally: a verified prefix per pair,
//                        then the runs of equal term above the first difference)
//   leader completeness  a new leader holds every entry committed in an
//                        earlier term (at or above its log start)
//   committed stays      an entry once committed anywhere never differs on any
//                        node that commits it; no node truncates or replaces
//                        by a snapshot anything at or below its own commit
//                        index; (strict durability) a node's committed prefix
//                        survives its crashes. (A node MAY lose an entry that
//                        others committed but it has not: a leader of a term
//                        between its own and the commit's can overwrite that
//                        minority copy; the simulator found this legal case.)
//   commit monotonic     a node's commit index never goes back while it is up
//   acknowledged         every acknowledged proposal is committed with its
//                        term and payload
// Strict durability is off for Durability::kInMemory runs (the simulator never
// crashes nodes in those; the flag documents why the check would not hold).
//
// Threading: none; owned by one run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "raft/sim/sim_log.h"
#include "raft/types.h"

namespace millrace::raft::sim {

class InvariantChecker {
 public:
  InvariantChecker(int nodes, bool strict_durability);

  // Node `node` (1-based) became leader of `term`; its log is up to date.
  void on_leader(int node, Term term, const SimLog& log);
  // Node `node` (at `term`) moved its commit index to `commit`.
  void on_commit(int node, Term term, Index commit, const SimLog& log);
  // §5.4, as Raft's TLA+ spec states it: a leader moves its commit index only
  // onto an entry of its own term (earlier terms' entries commit as its prefix).
  void on_leader_commit(int node, Term term, Index commit, const SimLog& log);
  void before_truncate(int node, const SimLog& log, Index from);
  void before_snapshot(int node, const SimLog& log, const SnapshotMeta& meta);
  // After a crash and restore: `commit` is the restarted node's commit index.
  void on_restart(int node, const SimLog& log, Index commit);
  // A client's proposal was acknowledged: `last` committed with `term`.
  void on_ack(uint64_t id, Index last, Term term, const Payload& data);
  // Per-step checks over all nodes' logs (`logs[k]` is node k + 1's) and the
  // roles (leader_terms[k]: node k+1's term if it is leader and up, else -1).
  void check_step(const std::vector<const SimLog*>& logs, const std::vector<int32_t>& leader_terms);
  // End of run: every acknowledged entry at or below `commit` (the node's
  // commit index) is in `log` (at or above its start).
  void check_acked_in(int node, const SimLog& log, Index commit);

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  Index highest_commit() const { return highest_commit_; }
  size_t committed_entries() const { return committed_.size(); }

 private:
  struct Committed {
    Entry entry;
    Term seen_in{0};  // lowest term of a node that saw it committed
  };
  struct Pair {
    uint64_t rewrites_a = ~uint64_t{0};
    uint64_t rewrites_b = ~uint64_t{0};
    Index verified{-1};  // entries identical on both logs up to here
  };
  void fail(std::string msg);
  void check_pair(int a, int b, const SimLog& la, const SimLog& lb, Pair& p);
  void check_holds_committed(int node, const SimLog& log, Index upto, const char* when);

  bool strict_;
  std::string error_;
  std::map<Term, int> leaders_;             // term -> node
  std::map<Index, Committed> committed_;    // Raft index -> the committed entry
  std::vector<Index> commit_;               // per node: commit index while up
  std::vector<Index> commit_high_;          // per node: highest commit ever
  std::vector<std::vector<Pair>> pairs_;
  std::map<uint64_t, std::pair<Index, Term>> acked_;
  Index highest_commit_{-1};
};

}  // namespace millrace::raft::sim

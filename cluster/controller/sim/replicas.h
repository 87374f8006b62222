// Every simulated node's copy of the metadata state, fed by its own committed
// log, and the checker that holds them equal (cluster/controller/sim).
//
// Each node applies its committed entries in log order to its own
// MetadataState (decoding the payload with metadata_batch.h). The first time
// any node reaches a Raft index, its state there is recorded; every node that
// reaches that index later must hold an equal state (operator==), or the run
// fails naming the index, both nodes and the first record of their snapshots
// that differs. A committed entry that does not decode or does not apply fails
// the run as well: the controller checked it against the same prefix.
//
// A node's disk holds its log and its snapshots (state at an index, written
// and synced before retention trims the log to that index, or received from
// the leader with InstallSnapshot). A crash loses the in-memory state;
// restart() rebuilds it from the newest snapshot its log continues, then
// replays the committed entries after it.
//
// Threading: none; owned by one simulated run.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "cluster/metadata/state/metadata_state.h"
#include "raft/sim/sim_log.h"

namespace millrace::cluster::sim {

using raft::Index;

// Planted faults for the checker's self-test: node `node` applies wrongly.
struct Flaw {
  enum class Kind : uint8_t { kNone, kSkipRecordType, kSwapEntries } kind = Kind::kNone;
  int node = 0;
  int16_t record_type = 0;  // kSkipRecordType: the apiKey it ignores
};

struct ReplicaStats {
  uint64_t restarts = 0;             // states rebuilt after a crash (or at start)
  uint64_t restarts_from_snapshot = 0;  // ... from a snapshot, not the empty log
  uint64_t snapshots_kept = 0;       // before retention trimmed a log
  uint64_t snapshots_installed = 0;  // received from a leader
};

class Replicas {
 public:
  explicit Replicas(Flaw flaw = {}) : flaw_(flaw) {}

  void restart(int node, const raft::sim::SimLog& log, Index commit);
  void before_log_start(int node, const raft::sim::SimLog& log, Index new_start);
  void install_snapshot(int node, Index at);
  void commit(int node, Index commit, const raft::sim::SimLog& log);

  // What node `node` (the leader) decides against: its applied state with
  // every entry of its log after it applied (KRaft's controller also decides
  // against its uncommitted records). Nullopt with error() set if one fails.
  std::optional<MetadataState> speculative(int node, const raft::sim::SimLog& log);

  const MetadataState& state(int node) { return nodes_[node].state; }
  const std::string& error() const { return error_; }
  size_t indices_checked() const { return truth_.size(); }
  uint64_t comparisons() const { return comparisons_; }
  const ReplicaStats& stats() const { return stats_; }

 private:
  struct Replica {
    MetadataState state;
    Index applied{-1};
    std::map<Index, MetadataState> snapshots;  // its disk: state at index
  };

  // Applies the entries of `log` in (r.applied, upto] to r; false on error.
  bool replay(int node, Replica& r, const raft::sim::SimLog& log, Index upto, bool check);
  bool apply_entry(int node, MetadataState& state, const raft::Entry& e);
  void check_at(int node, Index i, const MetadataState& state);
  // r rebuilt from its newest snapshot at or below `upto` that its log continues.
  bool from_snapshot(int node, Replica& r, const raft::sim::SimLog& log, Index upto);
  void fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
  }

  Flaw flaw_;
  std::map<int, Replica> nodes_;
  std::map<Index, std::pair<int, MetadataState>> truth_;  // first node at an index, its state
  uint64_t comparisons_ = 0;
  ReplicaStats stats_;
  std::string error_;
};

}  // namespace millrace::cluster::sim

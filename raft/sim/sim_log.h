// The simulator's disk for one node: a raft::Log that remembers what was
// synced, so a crash can lose the rest (raft/sim). The live log (what the
// node reads and writes while up) and the durable log (as of the last sync())
// are two MemoryLogs; every write since the last sync is kept in a journal.
// crash() rebuilds the live log from the durable one plus a random prefix of
// the journal, and the next write after that prefix may be torn: a prefix of
// its entries survives, the rest is lost (storage's recovery ends the log at
// the last whole batch, so a torn batch is a lost batch).
//
// The term/vote "file" lives beside it in the cluster (Node::durable_hard):
// the driver writes and syncs it in one step, as HardStateFile does.
//
// Retention (move_start) applies to the live log at once and to the durable
// one when it can (the durable log may not hold that offset yet; a crash then
// brings back a lower start, which is allowed: deleting is not durable until
// it is).
//
// Also kept for the invariant checker: the runs of equal term (few per log),
// and a rewrite counter that changes whenever an existing entry may have
// changed or vanished (truncate, snapshot, crash, retention, corruption).
//
// Threading: none; one owner (the simulated cluster).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "raft/log.h"
#include "raft/testing/memory_log.h"

namespace millrace::raft::sim {

// A maximal stretch of entries of one term: Raft indices (Entry::last) from..to.
struct TermRun {
  Term term{0};
  Index from{0};
  Index to{0};
};

class SimLog : public Log {
 public:
  explicit SimLog(const Config& initial) : live_(initial), durable_(initial) {}

  Index start() const override { return live_.start(); }
  Index last() const override { return live_.last(); }
  std::optional<Term> term_at(Index i) const override { return live_.term_at(i); }
  std::vector<Entry> entries(Index from, size_t max_bytes) const override { return live_.entries(from, max_bytes); }
  SnapshotMeta snapshot() const override { return live_.snapshot(); }
  std::vector<Entry> config_entries() const override { return live_.config_entries(); }

  bool append(const std::vector<Entry>& es) override;
  bool truncate_suffix(Index from) override;
  bool install_snapshot(const SnapshotMeta& meta) override;
  bool sync() override;

  // Retention: the log start moves to `new_start` (an entry's first offset or
  // last() + 1). The caller keeps it <= the node's commit + 1.
  bool move_start(Index new_start);

  // Power loss: the live log becomes the durable one plus a random prefix of
  // the unsynced writes, the next of them possibly torn. Returns a one-line
  // description for the trace.
  std::string crash(std::mt19937_64& rng, bool allow_torn);

  const std::vector<Entry>& all() const { return live_.all(); }
  // The entry whose Raft index (last offset) is exactly i, or null.
  const Entry* find(Index i) const;
  const std::vector<TermRun>& runs() const { return runs_; }
  uint64_t rewrites() const { return rewrites_; }
  size_t unsynced_writes() const { return journal_.size(); }

  // Checker self-test only: replace the payload of the entry at index i in
  // the live and durable logs (a disk that corrupts a committed entry).
  bool corrupt_for_test(Index i);

 private:
  struct Write {
    enum class Kind : uint8_t { kAppend, kTruncate, kSnapshot } kind;
    std::vector<Entry> entries;
    Index from{0};
    SnapshotMeta meta;
  };
  static void apply(testing::MemoryLog& log, const Write& w);
  void rebuild_runs();

  testing::MemoryLog live_;
  testing::MemoryLog durable_;
  std::vector<Write> journal_;
  std::vector<TermRun> runs_;
  uint64_t rewrites_ = 0;
};

}  // namespace millrace::raft::sim

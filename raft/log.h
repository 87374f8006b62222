// The log a Raft group replicates, as the consensus core sees it. Two
// implementations: the partition log (raft/storage/partition_log.h over
// storage::Log; entries are record batches and control batches) and the simulator's
// (raft/testing/memory_log.h, made crashable by raft/sim).
//
// Who calls what: the core (raft.h) only READS (start, last, term_at, entries,
// snapshot, config_entries). The driver that owns the group WRITES, applying a
// Ready in its order: install_snapshot, truncate_suffix, append, then sync
// when Ready::must_sync. All calls come from the group's one thread/strand;
// only the log start may move in between (retention, DeleteRecords), and only
// up to the commit index + 1: nothing uncommitted is ever deleted by it.
//
// Durability: append() makes entries readable at once; they survive a crash
// only after sync() returned true (Ready::must_sync). A crash may keep any
// prefix of unsynced appends, and the last of them may be torn (the log then
// ends at the last whole entry, as storage's recovery does).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "raft/types.h"

namespace millrace::raft {

class Log {
 public:
  virtual ~Log() = default;

  // The first offset held. Everything below it is summarised by snapshot().
  virtual Index start() const = 0;
  // The last offset held (Entry::last of the last entry); start() - 1 when
  // the log holds no entry.
  virtual Index last() const = 0;
  // The term of the entry covering offset i, for i in [start() - 1, last()]:
  // at start() - 1 the snapshot's term (0 for a log that never moved its
  // start). nullopt outside that range.
  virtual std::optional<Term> term_at(Index i) const = 0;
  // Whole entries from the one covering `from` (from in [start(), last()]),
  // in order, at least one entry when any is there, then more while their
  // payload bytes stay within max_bytes.
  virtual std::vector<Entry> entries(Index from, size_t max_bytes) const = 0;
  // What stands for the entries below start(): index start() - 1, its term,
  // and the configuration in force there.
  virtual SnapshotMeta snapshot() const = 0;
  // Every kVoters entry still in the log (at or after start()), in order. The
  // core rebuilds its configuration from snapshot().config and these at
  // construction; there are few.
  virtual std::vector<Entry> config_entries() const = 0;

  // --- writes, by the driver only (see above) ---
  // REQUIRES: entries.front().first == last() + 1, contiguous, terms not
  // decreasing. Returns false on an I/O error (the group must stop).
  virtual bool append(const std::vector<Entry>& entries) = 0;
  // Removes every entry whose last offset >= from. REQUIRES: from > commit
  // index (the core never asks for less) and from is an entry's first offset.
  virtual bool truncate_suffix(Index from) = 0;
  // Drops every entry and restarts the log at meta.index + 1 (a follower too
  // far behind the leader's log start).
  virtual bool install_snapshot(const SnapshotMeta& meta) = 0;
  // Makes every append and truncation so far survive a crash.
  virtual bool sync() = 0;
};

}  // namespace millrace::raft

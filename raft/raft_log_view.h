// The Raft log as the core sees it: the driver's Log (what is written) with an
// overlay of what the core decided but has not yet handed to the driver and
// seen advanced (etcd's raftLog + unstable): a snapshot to install, a suffix
// to truncate, entries to append. Reads answer for the log as it will be once
// the pending Ready is applied.
//
// Who calls: Raft::Impl only, on the group's thread. ready() hands out the
// pending parts; stable(rd) at advance() drops them (the driver has written
// them). REQUIRES (raft.h's driver loop): no other mutation between the two.
//
// Cost: reads of the unstable part are a binary search over it; reads below
// it go to the Log. Nothing here scans the whole log.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "raft/log.h"
#include "raft/types.h"

namespace millrace::raft {

class LogView {
 public:
  explicit LogView(Log& log) : log_(log) {}

  Index start() const;  // first offset held (after a pending snapshot: its index + 1)
  Index last() const;   // last offset held, unstable included
  Term last_term() const;
  std::optional<Term> term_at(Index i) const;
  // Whole entries from the one covering `from`, at least one if any, then
  // more while within max_bytes (Log::entries' rule), unstable included.
  std::vector<Entry> entries(Index from, size_t max_bytes) const;
  // The entry covering offset i (start() <= i <= last()), or nullopt.
  std::optional<Entry> entry_at(Index i) const;
  SnapshotMeta snapshot() const;
  // The largest entry boundary b <= i (an entry's last offset, or start() - 1)
  // whose term is <= t: the fast-backtracking probe point (message.h's hint).
  Index find_at_or_below(Index i, Term t) const;
  // Last offset already written by the driver and not overlaid by a pending
  // truncation or snapshot.
  Index stable_last() const;

  // --- mutations (the core) ---
  void append(Entry e);                           // REQUIRES: e.first == last() + 1
  void truncate_from(Index from);                 // drop every entry with last >= from
  void install_snapshot(const SnapshotMeta& m);   // drop everything, restart after m.index

  // --- the Ready hand-off ---
  bool has_pending() const { return snapshot_.has_value() || truncate_.has_value() || !unstable_.empty(); }
  const std::optional<SnapshotMeta>& pending_snapshot() const { return snapshot_; }
  const std::optional<Index>& pending_truncate() const { return truncate_; }
  const std::vector<Entry>& unstable() const { return unstable_; }
  // The driver applied a Ready holding these parts: they are in the Log now.
  void stable(bool snapshot, bool truncate, size_t entries);

 private:
  // Index into unstable_ of the entry covering i; REQUIRES unstable_ non-empty
  // and i in [unstable_.front().first, last()].
  size_t covering(Index i) const;
  // The last offset below the unstable part (log or snapshot, after a pending truncation).
  Index base_last() const;

  Log& log_;
  std::optional<SnapshotMeta> snapshot_;
  std::optional<Index> truncate_;
  std::vector<Entry> unstable_;
};

}  // namespace millrace::raft

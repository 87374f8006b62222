// An in-memory raft::Log for unit tests and as the base of the simulator's
// crashable log: a vector of whole entries after a snapshot meta (what stands
// for everything below start()). Header-only; no I/O, no durability model of
// its own (sync() only counts calls): a test that needs "what survives a
// crash" keeps its own synced copy (raft/sim does).
//
// Threading: none; one owner. Errors: `fail` makes every write return false
// (an I/O error), leaving the log unchanged.
//
// Test helpers beyond raft::Log: move_start() (retention / DeleteRecords:
// drops a prefix and summarises it in snapshot()), all(), syncs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <vector>

#include "raft/log.h"
#include "raft/types.h"

namespace millrace::raft::testing {

class MemoryLog : public Log {
 public:
  MemoryLog() = default;
  // A new replica of a group whose initial configuration is `initial`
  // (log starts at offset 0, nothing before it).
  explicit MemoryLog(Config initial) { snap_.config = std::move(initial); }
  // A log that starts after `meta` (meta.index + 1), as after install_snapshot.
  explicit MemoryLog(SnapshotMeta meta) : snap_(std::move(meta)) {}

  Index start() const override { return snap_.index + 1; }
  Index last() const override { return entries_.empty() ? snap_.index : entries_.back().last; }

  std::optional<Term> term_at(Index i) const override {
    if (i == snap_.index) return snap_.term;
    if (i < snap_.index || i > last()) return std::nullopt;
    return entries_[covering(i)].term;
  }

  std::vector<Entry> entries(Index from, size_t max_bytes) const override {
    std::vector<Entry> out;
    if (from < start() || from > last()) return out;
    size_t bytes = 0;
    for (size_t k = covering(from); k < entries_.size(); ++k) {
      if (!out.empty() && bytes + entries_[k].bytes() > max_bytes) break;
      bytes += entries_[k].bytes();
      out.push_back(entries_[k]);
    }
    return out;
  }

  SnapshotMeta snapshot() const override { return snap_; }

  std::vector<Entry> config_entries() const override {
    std::vector<Entry> out;
    for (const Entry& e : entries_)
      if (e.type == EntryType::kVoters) out.push_back(e);
    return out;
  }

  bool append(const std::vector<Entry>& es) override {
    if (fail) return false;
    Index expect = last() + 1;
    for (const Entry& e : es) {
      if (e.first != expect || e.last < e.first) return false;  // REQUIRES violated: refuse, never corrupt
      expect = e.last + 1;
    }
    entries_.insert(entries_.end(), es.begin(), es.end());
    return true;
  }

  bool truncate_suffix(Index from) override {
    if (fail) return false;
    while (!entries_.empty() && entries_.back().last >= from) entries_.pop_back();
    return true;
  }

  bool install_snapshot(const SnapshotMeta& meta) override {
    if (fail) return false;
    entries_.clear();
    snap_ = meta;
    return true;
  }

  bool sync() override {
    if (fail) return false;
    ++syncs;
    return true;
  }

  // --- test helpers ---

  // Retention: the log now starts at `new_start`, which must be an entry's
  // first offset or last() + 1 (the caller keeps it <= commit + 1, as the
  // driver must). The dropped prefix is summarised in snapshot(): its last
  // index, that entry's term and the configuration in force there. Returns
  // false (and changes nothing) for any other offset.
  bool move_start(Index new_start) {
    if (new_start == start()) return true;
    if (new_start < start() || new_start > last() + 1) return false;
    size_t k = 0;
    while (k < entries_.size() && entries_[k].last < new_start) ++k;
    if (k < entries_.size() && entries_[k].first != new_start) return false;
    SnapshotMeta meta;
    meta.index = new_start - 1;
    meta.term = entries_[k - 1].term;
    meta.config = snap_.config;
    for (size_t j = 0; j < k; ++j) {
      Config c;
      if (entries_[j].type == EntryType::kVoters && entries_[j].data && Config::decode(*entries_[j].data, &c))
        meta.config = std::move(c);
    }
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(k));
    snap_ = std::move(meta);
    return true;
  }

  const std::vector<Entry>& all() const { return entries_; }

  bool fail = false;  // every write fails (I/O error) while set
  size_t syncs = 0;   // successful sync() calls

 private:
  // Index into entries_ of the entry covering offset i (or the next one, for
  // a gap). REQUIRES: start() <= i <= last().
  size_t covering(Index i) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), i,
                               [](const Entry& e, Index x) { return e.last < x; });
    return static_cast<size_t>(it - entries_.begin());
  }

  SnapshotMeta snap_;
  std::vector<Entry> entries_;
};

}  // namespace millrace::raft::testing

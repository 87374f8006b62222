// PartitionRaftLog: a partition's storage::Log as the Raft log (raft/log.h).
// An entry is one record batch (data) or one control batch (LeaderChange,
// Voters); how they are laid out is drawn in entry_batch.h:
//
//   offsets   ... 97 98 99 | 100 101 102 103 | 104 | 105 106 | 107
//   batches   [  data, e3 ] [  data, e3      ] [LC ] [ data, e4] [V ]
//   index = the batch's last offset, term = its partitionLeaderEpoch,
//   commit index = high watermark - 1 (set_commit()).
//
// What comes from where:
//   start(), last()   the storage log start (rounded up to the next entry when
//                     DeleteRecords cut a batch) and log end offset - 1
//   term_at(i)        storage's leader epoch cache (no batch is read); at
//                     start() - 1 the snapshot's term
//   entries()         Log::read of whole batches, each parsed to an Entry
//                     (a large data batch only by its header: the entry names
//                     its file range, FileSpan; file_span_min_bytes)
//   snapshot()        {start() - 1, its term, the config in force there}: the
//                     installed snapshot (raft.snapshot, snapshot_file.h) or,
//                     once retention moved the start past a Voters entry,
//                     that entry's configuration
//   config_entries()  an in-memory list of the Voters entries (few), kept in
//                     raft.snapshot too, checked against the log at open
//   append()          Log::append_replicated of the stamped batches (a
//                     leader's own entries go through it as well: the core
//                     assigned their offsets)
//   truncate_suffix() Log::truncate_to; install_snapshot() raft.snapshot first,
//                     then Log::truncate_fully_and_start_at(index + 1); sync()
//                     Log::flush
//
// LogStart entries (DeleteRecords replicated, EntryType::kLogStart): each
// replica that appends one raises its floor to the entry's offset (in
// raft.snapshot before the log, like a Voters entry) and keeps its storage
// log start at min(floor, commit + 1): moved at the append, then with every
// commit (set_commit, the start and the high watermark under one lock), and
// at open. So a replica holding the entry never serves an offset below it,
// whether or not it knows the entry committed, and every later leader holds
// it once it commits. The floor never goes down: an entry cut by truncation
// leaves it (it deleted only committed records: the leader checked the offset
// against its high watermark before proposing), so a DeleteRecords whose
// outcome was unknown may still take effect, as in Kafka.
//
// Open (recovery): raft.snapshot is read (missing: a log that never ran Raft,
// then the log itself is scanned for Voters entries). A log start below the
// snapshot's index + 1 means an install_snapshot crashed between its two
// steps: it is finished (the log restarts at index + 1). Voters entries of the
// file past the log end were lost with an unsynced tail and are forgotten.
//
// Durability: append/truncate are durable after sync() (Log::flush), as
// raft/log.h requires; raft.snapshot is durable when the call that wrote it
// returns. The storage::Log should run with HwPolicy::kManual: the commit
// index, not the flush, moves the high watermark.
//
// Limits (known, not handled here):
//   - a control batch is built by each replica from the entry, stamped with
//     its own clock (Options::clock): replicas' bytes differ in that
//     timestamp and the CRC unless the clocks agree (data batches are copied
//     byte for byte);
//   - compaction (cleanup.policy=compact) may leave offset gaps between
//     entries; it must stay below the commit index;
//   - after a damaged leader-epoch.checkpoint storage rebuilds its epoch
//     cache from the remaining batches and cannot know the term below the
//     first one: snapshot().term then falls back to the installed snapshot's.
//
// Threading: one group's thread/strand calls everything (raft/log.h); only
// the storage log start may move meanwhile (retention, DeleteRecords, on the
// LogManager's threads), which storage::Log makes safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "raft/log.h"
#include "raft/storage/snapshot_file.h"
#include "storage/log.h"

namespace millrace::raft {

struct PartitionRaftLogOptions {
  storage::Env* env = nullptr;  // the storage::Log's env (null: posix)
  // The timestamp written into control batches (their record's CreateTime).
  std::function<int64_t()> clock = storage::system_clock_ms;
  // entries() leaves a data batch of at least this many bytes in its file (an
  // Entry with a FileSpan, no data): the transport sends it with sendfile.
  // Smaller batches, and Raft's control batches, are read into memory. 0: all are.
  size_t file_span_min_bytes = 0;
};

class PartitionRaftLog final : public Log {
 public:
  // `log` is open; its directory holds raft.snapshot.
  static storage::Result<std::unique_ptr<PartitionRaftLog>> open(std::shared_ptr<storage::Log> log,
                                                                 PartitionRaftLogOptions options = {});

  Index start() const override;
  Index last() const override;
  std::optional<Term> term_at(Index i) const override;
  std::vector<Entry> entries(Index from, size_t max_bytes) const override;
  SnapshotMeta snapshot() const override;
  std::vector<Entry> config_entries() const override;

  bool append(const std::vector<Entry>& entries) override;
  bool truncate_suffix(Index from) override;
  bool install_snapshot(const SnapshotMeta& meta) override;
  // A log that never ran Raft (no configuration in raft.snapshot nor a Voters
  // entry; written by the single-replica path) joins a group: `config` becomes
  // the configuration in force below its start, its entries kept as they are.
  // REQUIRES: snapshot().config and config_entries() empty. False on an I/O error.
  bool adopt_config(const Config& config);
  bool sync() override;

  // Ready::commit: the high watermark becomes commit + 1 (what consumers see),
  // and the log start min(log_start_floor(), commit + 1) if that is higher.
  void set_commit(Index commit);
  // The highest offset a LogStart entry appended here named (0: none): this
  // replica's log start never stays below min(floor, commit + 1).
  Offset log_start_floor() const { return floor_; }
  // Why the last write returned false (or entries() returned less).
  const storage::Status& last_error() const { return error_; }
  storage::Log& storage() { return *log_; }

 private:
  PartitionRaftLog(std::shared_ptr<storage::Log> log, PartitionRaftLogOptions options);
  storage::Status recover();
  bool fail(storage::Status st) const;
  // The config entries to persist: from the one in force at start() on.
  SnapshotFileContent file_content() const;
  storage::Status write_file();
  std::optional<Term> epoch_covering(Index i) const;
  Term snapshot_term(Index at) const;  // at = start() - 1

  std::shared_ptr<storage::Log> log_;
  PartitionRaftLogOptions options_;
  std::filesystem::path snapshot_path_;
  SnapshotMeta base_;           // the installed snapshot (raft.snapshot)
  std::vector<Entry> configs_;  // Voters entries after base_.index, oldest first
  Offset floor_{0};             // the highest offset a LogStart entry appended here named
  // start(): the storage start it was computed from, and the result.
  mutable int64_t seen_storage_start_ = -1;
  mutable Index start_{0};
  mutable storage::Status error_;
};

}  // namespace millrace::raft

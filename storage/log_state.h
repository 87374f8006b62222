// Internal: the state behind Log, shared by the files that implement it
// (log.cc: open/recovery/close, log_append.cc: append/read/lookups,
// log_maintenance.cc: flush/truncate/retention/checkpoints, log_cleaner.cc:
// compaction). Not part of the public API.
//
// Lock order: checkpoint_mu -> compact_mu -> mu -> flush_mu; flush_io_mu ->
// mu. checkpoint_mu is held by every writer of the checkpoint files from its
// snapshot to its rename (write_checkpoints, truncate_*, close).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/checkpoint.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

namespace millrace::storage {

inline constexpr const char* kPartitionCheckpointFile = "partition.checkpoint";
inline constexpr const char* kEpochCheckpointFile = "leader-epoch.checkpoint";
inline constexpr const char* kProducerSnapshotFile = "producer.snapshot";
inline constexpr const char* kCleanShutdownFile = ".clean_shutdown";

// Raft's own entries in a partition's log (LeaderChange, Voters): control
// batches without the transactional bit. Transaction markers are data.
inline bool is_raft_control(const record::BatchHeader& b) { return b.is_control() && !b.is_transactional(); }

struct Log::State {
  LogOptions opts;
  std::filesystem::path dir;

  mutable std::mutex mu;
  std::map<int64_t, std::shared_ptr<Segment>> segments;  // GUARDED_BY(mu), never empty once open
  int64_t log_start = 0;                                 // GUARDED_BY(mu)
  int64_t leo = 0;                                       // GUARDED_BY(mu)
  int64_t hw = 0;                                        // GUARDED_BY(mu)
  int64_t cleaner_offset = 0;                            // GUARDED_BY(mu)
  // The end of the last batch that is not Raft's own (Log::data_end); -1 when
  // not known (after open or a truncation) until data_end_locked() finds it.
  int64_t data_end = -1;                                 // GUARDED_BY(mu)
  std::vector<EpochEntry> epochs;                        // GUARDED_BY(mu)
  ProducerStateManager producers;                        // GUARDED_BY(mu)
  RecoveryInfo recovery;                                 // GUARDED_BY(mu)
  bool closed = false;                                   // GUARDED_BY(mu)
  bool dir_dirty = false;                                // GUARDED_BY(mu): new segment not yet fsynced in dir
  bool parent_dirty = false;                             // GUARDED_BY(mu): new partition dir not fsynced in log dir
  bool epochs_dirty = false;                             // GUARDED_BY(mu)
  int64_t unflushed_messages = 0;                        // GUARDED_BY(mu)
  int64_t last_flush_ms = 0;                             // GUARDED_BY(mu)
  int64_t last_append_ms = 0;                            // GUARDED_BY(mu)
  bool tail_noted = false;  // GUARDED_BY(mu): queued in opts.buffers for the linger timer

  std::atomic<int64_t> flushed{0};  // recovery point: every offset below is fsynced

  struct Waiter {
    int64_t offset;
    std::function<void(Status)> done;
  };
  std::mutex flush_mu;
  std::vector<Waiter> waiters;  // GUARDED_BY(flush_mu)
  bool flush_running = false;   // GUARDED_BY(flush_mu)
  std::mutex flush_io_mu;       // one fsync pass at a time
  std::mutex compact_mu;        // one compaction at a time; truncation waits for it
  std::mutex checkpoint_mu;     // one checkpoint writer at a time
  std::vector<uint8_t> written_partition, written_snapshot;  // GUARDED_BY(checkpoint_mu): skip unchanged

  TailWriterOptions tail_options() const {
    return {opts.append_buffer_bytes, std::min<int64_t>(opts.preallocate_bytes, opts.config.segment_bytes), opts.buffers,
            opts.env};
  }
  Env& env() const { return *opts.env; }  // set by the constructor: never null

  // data_end, found when not known: scans back from the newest segment's last
  // index entry (an index interval at a time) to the last batch that is not
  // Raft's own; the log start when there is none. REQUIRES: mu held.
  Result<int64_t> data_end_locked();
  void note_data_locked(const record::BatchHeader& h, int64_t last_offset) {
    if (!is_raft_control(h)) data_end = last_offset + 1;
  }

  // Entry check of every call: kStorageError once the log dir is offline
  // (log_dir_health.h), kClosed after close(). REQUIRES: mu held (for closed).
  Status usable() const {
    if (opts.dir_health->offline()) return opts.dir_health->error();
    if (closed) return Status(Errc::kClosed, dir.string());
    return Status::Ok();
  }
  // Fail-stop: a failed write or fsync takes the log dir offline; returns the
  // error for the caller (Ok stays Ok). Any thread, mu held or not.
  Status fail(const Status& st) const {
    if (st.ok()) return st;
    return opts.dir_health->take_offline(st);
  }
  // A segment append that failed. The tail writer refused it whole: nothing of
  // it is in the file and the bytes appended before it are intact (cut back,
  // or still pending). A full disk leaves the log usable; any other write error
  // takes the log dir offline.
  Status append_failed(const Status& st) const { return st.code() == Errc::kStorageFull ? st : fail(st); }

  // REQUIRES: mu held.
  Segment& active() { return *segments.rbegin()->second; }
  // After an append: queue this log for the linger timer when its buffer holds
  // pending bytes.
  void note_pending_locked(std::weak_ptr<Log> self);
  Status roll_locked(int64_t now_ms);
  bool should_roll_locked(int64_t incoming_bytes, int64_t last_offset, int64_t now_ms) const;
  void remove_segment_locked(std::map<int64_t, std::shared_ptr<Segment>>::iterator it);
  // DeleteRecords' move. REQUIRES: mu held, log_start < o <= hw.
  Status move_log_start_locked(int64_t o);
  void note_epoch_locked(int32_t epoch, int64_t start_offset);
  void advance_hw_locked();
  // Writes partition.checkpoint and remembers it. REQUIRES: checkpoint_mu held
  // (every writer of the file holds it from the capture of `cp` to here).
  Status write_partition_checkpoint(const PartitionCheckpoint& cp);
  PartitionCheckpoint checkpoint_locked() const {
    return {flushed.load(), log_start, hw, cleaner_offset};
  }
};

}  // namespace millrace::storage

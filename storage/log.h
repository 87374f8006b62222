// Log: one partition's append-only log on disk (Kafka's UnifiedLog, minus
// replication, which wraps it later).
//
// Directory layout (<log.dir>/<topic>-<partition>/):
//   00000000000000000000.log        record batches v2 as received: offsets assigned,
//                                   leader epoch stamped, CRC checked (segment.h)
//   00000000000000000000.index      sparse offset index      (index_file.h)
//   00000000000000000000.timeindex  sparse time index        (index_file.h)
//   partition.checkpoint            recovery point, log start offset, high
//                                   watermark, cleaner point  (checkpoint.h)
//   leader-epoch.checkpoint         epoch -> start offset     (checkpoint.h)
//   producer.snapshot               idempotent producer state (producer_state.h)
//   .clean_shutdown                 marker written last by close()
//
// Durability. append() writes the batch to the segment file (the OS page
// cache): it survives a crash of the process (kill -9) but not of the machine.
// With an append buffer (LogOptions::append_buffer_bytes > 0, the LogManager's
// default) append() copies the batch into the active segment's buffer instead
// (tail_writer.h), which reaches the page cache when it fills, when a read,
// flush, roll or close needs it, or when the LogManager's linger timer writes
// it (append_linger_ms later): a kill -9 can lose what was appended in that
// window and not yet flushed, never more, and the log stays a clean prefix.
// written_end_offset() tells what is in the page cache.
// Data survives a machine crash / power loss once flush() has returned OK, or
// once the callback of flush_up_to(o) ran with OK (covers every offset < o that
// was appended before the call). Many concurrent flush_up_to() callers share one
// fdatasync (group commit). flush.messages is checked after every append (with
// a flush executor the fsync runs there, not on the appending thread);
// flush.ms by maybe_flush() (LogManager housekeeping).
//
// I/O errors (fail-stop, log_dir_health.h). The first failed write or fsync
// takes the log dir offline: from then on every call answers kStorageError,
// flush_up_to() callbacks get it, recovery_point() never moves again, and
// close() writes no clean-shutdown marker (the next open recovers). An append
// refused whole for lack of space is the exception (kStorageFull, log usable).
// Every file-system call goes through LogOptions::env (env.h).
//
// High watermark. HwPolicy::kOnAppend: HW = LEO after every append. kOnFlush
// (the broker's choice with log.flush.on.acks.all): HW advances to what has been
// fsynced (consumers never see data that a power loss could take back); with a
// flush executor every append requests that fsync (group commit), and
// LogOptions::on_hw_moved reports each move. kManual: replication calls
// set_high_watermark().
//
// Recovery (open after an unclean shutdown, i.e. no .clean_shutdown marker):
// every segment from the one holding the recovery point to the end is re-read,
// each batch's framing and CRC checked; the log is truncated at the first bad
// byte (later segments are deleted), indexes are rebuilt, producer state is
// rebuilt from its snapshot plus the re-read batches. A segment that cannot be
// read at all (I/O error, not a torn tail) fails open() with kCorruptSegment.
//
// Thread-safety. All public calls may run concurrently from any thread (the
// broker calls append/read from several Asio threads). Appends, truncation and
// segment changes serialise on one mutex per Log (`mu`); flush's fdatasync,
// CRC checks of incoming batches, read's header walk and compaction's copying
// run outside it. What `mu` is held across, and so how long another append or
// read of the same partition may wait (C16; not "microseconds"):
//   - append: a memcpy into the append buffer, or when it fills (or without a
//     buffer) one pwrite of up to one buffer (128 KiB) plus the batch itself
//     (up to max.message.bytes); a fallocate step (8 MiB) now and then;
//   - roll (segment.bytes/ms): index writes, file creation, ftruncate: no fsync;
//   - read: writing the pending tail (<= one buffer) when the read needs it;
//   - offset_for_timestamp (ListOffsets by time): a scan of part of one segment
//     with decompression: milliseconds for large segments;
//   - write_checkpoints: index writes and, once per flushed segment, the index
//     fsyncs; producer-state encoding (grows with the number of producer ids);
//   - truncate_to / truncate_fully_and_start_at / close: fsyncs (rare calls:
//     replication and shutdown).
// checkpoint_mu serialises every writer of the checkpoint files from snapshot to
// rename (lock order: checkpoint_mu -> compact_mu -> mu -> flush_mu).
// flush_up_to() never blocks on fsync: the callback runs on the flush executor
// thread (or inline when the offset is already durable, or without a flush
// executor) and must not block.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "common/strong_types.h"
#include "storage/env.h"
#include "storage/file_region.h"
#include "storage/log_config.h"
#include "storage/log_dir_health.h"
#include "storage/producer_state.h"
#include "storage/status.h"
#include "storage/tail_writer.h"

namespace millrace::storage {

class Segment;
class ProducerStateManager;
class LeaderEpochCache;

// Milliseconds since the Unix epoch; injectable for tests.
using Clock = std::function<int64_t()>;
int64_t system_clock_ms();

// Where flush_up_to() runs its fsync. LogManager provides a small pool; when
// null, the first waiting caller performs the fsync itself (leader/follower
// group commit) and the others wait for it.
class FlushExecutor {
 public:
  virtual ~FlushExecutor() = default;
  virtual void post(std::function<void()> job) = 0;
};

enum class HwPolicy : uint8_t { kOnAppend, kOnFlush, kManual };

struct LogOptions {
  LogConfig config;
  Clock clock = system_clock_ms;
  FlushExecutor* flusher = nullptr;  // not owned; must outlive the Log
  HwPolicy hw_policy = HwPolicy::kOnAppend;
  // Append buffer per active segment, in bytes (a multiple of 4 KiB); 0 =
  // write-through (each append is one write at once). See tail_writer.h.
  int64_t append_buffer_bytes = 0;
  // fallocate reservation step ahead of the appends (capped at segment.bytes); 0 = none.
  int64_t preallocate_bytes = 0;
  // Total budget for the buffers of many logs, and the queue of logs with
  // pending bytes that a timer writes out; null = no limit and no timer.
  std::shared_ptr<AppendBufferPool> buffers;
  // Every file-system call goes through it (env.h); null = Env::posix().
  Env* env = nullptr;  // not owned; must outlive the Log
  // Called (on the flushing thread, no lock held) when a flush moved the high
  // watermark under kOnFlush, so that parked fetches can wake; must not block.
  std::function<void()> on_hw_moved;
  // The log dir's fail-stop state, shared with the other logs of the dir
  // (log_dir_health.h); null = one of its own.
  std::shared_ptr<LogDirHealth> dir_health;
  // Memory of compaction's key map (offset_map.h) for one pass; a dirty range
  // with more distinct keys is cleaned over several passes.
  int64_t cleaner_dedupe_buffer_bytes = 128LL << 20;
  // producer.id.expiration.ms: producer ids idle this long are forgotten at
  // the next checkpoint (producer_state.h).
  int64_t producer_id_expiration_ms = 86400000;
};

struct AppendResult {
  Offset base_offset;              // of the first batch appended
  Offset last_offset;              // of the last batch appended
  int64_t log_append_time_ms = -1; // set when message.timestamp.type=LogAppendTime
  Offset log_start_offset;
  bool duplicate = false;          // idempotent retry: offsets are the original ones
};

struct TimestampOffset {
  int64_t timestamp;
  Offset offset;
};

struct EpochEndOffset {
  LeaderEpoch epoch{-1};  // largest known epoch <= requested, -1 when none
  Offset end_offset{-1};  // start offset of the next epoch, or LEO for the latest
};

struct RecoveryInfo {
  bool clean_shutdown = false;
  int segments_scanned = 0;
  int64_t bytes_scanned = 0;
  int64_t bytes_truncated = 0;  // torn/corrupt tail removed by recovery
};

struct CompactionStats {
  int segments_cleaned = 0;
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
  int64_t records_removed = 0;
};

class Log : public std::enable_shared_from_this<Log> {
 public:
  // Opens (or creates) the log in `dir`, recovering it if it was not closed.
  static Result<std::shared_ptr<Log>> open(const std::filesystem::path& dir, LogOptions options);
  // A stand-in for a partition that failed to load: it is offline from the
  // start (every call answers kStorageError naming `cause`), reads and writes
  // nothing, and keeps the partition's name taken so that nobody re-creates it
  // empty (LogManager). remove() still deletes the directory (DeleteTopics).
  static std::shared_ptr<Log> offline(const std::filesystem::path& dir, LogOptions options, const Status& cause);
  ~Log();  // close() if not closed; errors are logged by the caller's close()

  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends one or more v2 record batches (a produce request's records field).
  // Every batch is checked (framing, CRC, max.message.bytes, idempotence)
  // before anything is written: on error nothing is appended. Offsets are
  // stamped in place into `batches`, so the caller's buffer is modified.
  Result<AppendResult> append(std::span<uint8_t> batches, LeaderEpoch leader_epoch);
  // What append() checks of each batch before taking the lock (framing, CRC,
  // max.message.bytes), without appending: a replicated partition's leader
  // checks a produce before proposing it. The headers, in order.
  Result<std::vector<record::BatchHeader>> check_batches(std::span<const uint8_t> batches) const;
  // A copy of one producer's idempotence state as the log holds it (producer_state.h).
  std::optional<ProducerEntry> producer_entry(int64_t producer_id) const;
  // Every producer id the log holds state for, with a copy of it (DescribeProducers).
  std::vector<std::pair<int64_t, ProducerEntry>> producers() const;
  // From now on only set_high_watermark() moves the high watermark
  // (HwPolicy::kManual): a partition replica's log, whose commit index does.
  void set_manual_high_watermark();
  // Follower/replica append: batches keep their offsets and epochs; the first
  // base offset must be >= log_end_offset().
  Result<AppendResult> append_replicated(std::span<uint8_t> batches);

  // Whole batches from the one containing `offset`, from one segment, at most
  // max_bytes unless the first batch alone is larger (then exactly that batch),
  // only batches whose last offset < upper_bound (pass high_watermark() for
  // consumers, log_end_offset() for replicas). offset == LEO -> empty region.
  // offset outside [log_start_offset, LEO] -> kOffsetOutOfRange.
  // kNoRaftControl (a consumer's Fetch): a region never mixes Raft's own
  // entries (control batches without the transactional bit: LeaderChange,
  // Voters) with other batches. When the batch at `offset` is one, the region
  // is that batch alone, marked `raft_control`; otherwise it stops before the
  // first one. Transaction markers (control and transactional) are data here.
  Result<FileRegion> read(Offset offset, int32_t max_bytes, Offset upper_bound,
                          ReadFilter filter = ReadFilter::kAll) const;

  // ListOffsets by time: the first batch whose max timestamp >= ts, reported as
  // (its max timestamp, its base offset, or the first record >= ts when the batch
  // is uncompressed). nullopt when no such batch. Special ts: -1 latest (LEO),
  // -2 earliest (log start), -3 max timestamp (KIP-734).
  Result<std::optional<TimestampOffset>> offset_for_timestamp(int64_t ts) const;

  Offset log_start_offset() const;
  Offset log_end_offset() const;
  Offset high_watermark() const;
  // The end of the last batch that is not Raft's own (LeaderChange, Voters):
  // where a consumer's data ends when only Raft's entries follow it. May lie
  // below the log start; at most the log end.
  Offset data_end() const;
  // `hw` as consumers are told it (Fetch, ListOffsets latest, lag): lowered
  // past the run of Raft's own entries that ends the log below it, never
  // below the log start.
  Offset consumer_end(Offset hw) const;
  Offset recovery_point() const;  // every offset below it has been fsynced
  Offset written_end_offset() const;  // every offset below it is in the file (survives kill -9)
  void set_high_watermark(Offset hw);  // clamped to [log start, LEO]

  // Removes every batch with last offset >= offset (a batch holding `offset` is
  // removed whole, as Kafka does). Producer state and epoch cache follow.
  Status truncate_to(Offset offset);
  // Removes everything and restarts the log at `new_start` (replica far behind).
  Status truncate_fully_and_start_at(Offset new_start);
  // DeleteRecords: moves log start offset to `offset` (<= HW); whole segments
  // below it are deleted. Returns the new log start offset. The checkpoint that
  // records it is written on the flush executor (inline without one).
  Result<Offset> delete_records_before(Offset offset);
  // A replicated partition's commit (kManual): the high watermark moves to
  // `hw` (clamped as set_high_watermark) and, under the same lock, the log
  // start up to min(log_start, hw) as delete_records_before would (never
  // down), so no reader sees records below `log_start` in between. Returns the
  // log start offset now.
  Result<Offset> set_high_watermark_and_log_start(Offset hw, Offset log_start);

  // Durability, see the comment at the top. After an error the log dir is
  // offline and neither ever reports success again.
  Status flush();
  void flush_up_to(Offset offset, std::function<void(Status)> done);
  // Applies flush.messages / flush.ms; cheap when nothing is due.
  Status maybe_flush();
  // Writes the append buffer's pending bytes to the file (the LogManager's tail
  // writer thread after append_linger_ms; produce calls it too).
  Status write_out_buffer();
  // Returns the append buffer's memory when nothing was appended for idle_ms.
  Status release_idle_buffer(int64_t idle_ms);

  // OffsetForLeaderEpoch.
  EpochEndOffset end_offset_for_epoch(LeaderEpoch epoch) const;
  std::optional<Offset> leader_epoch_start_offset(LeaderEpoch epoch) const;
  LeaderEpoch latest_epoch() const;  // -1 when no epoch recorded

  // True once its log dir is offline (log_dir_health.h) or it failed to load.
  bool is_offline() const { return s_dir_health_->offline(); }

  int64_t size_bytes() const;
  int segment_count() const;
  RecoveryInfo recovery_info() const;
  const std::filesystem::path& dir() const { return dir_; }

  LogConfig config() const;  // a copy (its map of unenforced keys too): not for the produce path
  bool compacted() const;    // cleanup.policy includes compact; cheap, for every produce
  int32_t min_insync_replicas() const;  // cheap, for every acks=all produce
  bool write_caching() const;           // cheap
  // leader/follower.replication.throttled.replicas (LogConfig), for the
  // replication layer's once-a-second sweep.
  std::pair<std::string, std::string> throttled_replicas() const;
  void update_config(const LogConfig& config);

  // Housekeeping, called by LogManager's background thread (safe concurrently
  // with append/read).
  Status roll();                          // start a new active segment now
  Result<int> enforce_retention();        // retention.ms / retention.bytes; segments deleted
  double dirty_ratio() const;             // compaction trigger input
  Result<CompactionStats> compact();      // cleanup.policy=compact, if dirty enough
  Result<CompactionStats> compact_now();  // compaction regardless of the ratio
  Status write_checkpoints();             // recovery point, producer snapshot, epochs

  // Flushes, writes checkpoints and the clean-shutdown marker. Later calls
  // return kClosed.
  Status close();
  // close() without flush, then removes the directory (DeleteTopics).
  Status remove();

 private:
  struct State;
  Log(std::filesystem::path dir, LogOptions options);
  Status checkpoint_log_start();  // after the log start moved: partition.checkpoint

  std::filesystem::path dir_;
  std::unique_ptr<State> s_;
  std::shared_ptr<LogDirHealth> s_dir_health_;  // == s_->opts.dir_health
};

}  // namespace millrace::storage

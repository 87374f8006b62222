// The metadata log: the controller quorum's Raft group over the partition
// `__cluster_metadata-0` in a node's metadata directory (raft/storage: the
// partition log is the Raft log, term and vote in `raft.state`), and the
// MetadataState its committed records describe. Each write is one Raft entry:
// a record batch whose records' values are framed metadata records
// (records/codec.h), as in KRaft's log.
//
// open() replays every committed entry into the state, checking each batch's
// CRC-32C; a record that does not apply is reported, never skipped (the log is
// the truth, so a mismatch is a bug to stop on). A torn tail after a crash is
// cut by the partition log's recovery at open: it was never acknowledged (a
// write returns after the sync). Bytes damaged anywhere else (flipped after a
// clean shutdown, say) fail open with kCorruptSegment naming the offset: never
// silently used. A voter of a larger quorum will repair them from its leader;
// a one-voter quorum has no other copy.
//
// Today the group has one voter, this node, driven in-process: write() commits
// at once. The transport that lets other voters in is the rest of issue 17.
// Not thread-safe: one owner (the controller's strand) calls it.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "cluster/metadata/records/codec.h"
#include "cluster/metadata/state/metadata_state.h"
#include "raft/raft.h"
#include "raft/storage/hard_state_file.h"
#include "raft/storage/partition_log.h"
#include "storage/log.h"
#include "storage/status.h"

namespace millrace::cluster {

inline constexpr const char* kMetadataTopic = "__cluster_metadata";
inline constexpr const char* kMetadataPartitionDir = "__cluster_metadata-0";

// Where the quorum stands (DescribeQuorum's answer).
struct QuorumStatus {
  int32_t leader_id = -1;
  int32_t leader_epoch = -1;     // the Raft term
  int64_t high_watermark = 0;    // commit + 1
  int64_t log_end_offset = 0;    // last + 1
  std::vector<int32_t> voters;
};

class MetadataLog {
 public:
  // Opens (or creates) the log under `dir`, with `me` as its only voter, and
  // replays it.
  static storage::Result<std::unique_ptr<MetadataLog>> open(const std::filesystem::path& dir, int32_t me);
  ~MetadataLog();

  // Appends `records` as one entry, commits it and applies it; the offset of
  // its last record. REQUIRES: records apply to state() in order (the
  // controller checked them); otherwise kInvalidArgument and nothing changes.
  storage::Result<int64_t> write(const std::vector<records::AnyRecord>& records);

  const MetadataState& state() const { return state_; }
  // A copy, safe from any thread (the rest of the class is the owner's).
  QuorumStatus status() const;
  int64_t applied_offset() const { return applied_; }  // -1: nothing applied
  storage::Status close();

 private:
  MetadataLog() = default;
  storage::Status drive();
  storage::Status apply_committed();

  std::shared_ptr<storage::Log> storage_;
  std::unique_ptr<raft::PartitionRaftLog> log_;
  std::unique_ptr<raft::HardStateFile> hard_state_;
  std::unique_ptr<raft::Raft> raft_;
  MetadataState state_;
  int64_t applied_ = -1;
  mutable std::mutex status_mu_;
  QuorumStatus status_;  // GUARDED_BY(status_mu_), refreshed after every drive()
};

}  // namespace millrace::cluster

// Steps 1-4 of raft.h's driver loop for a group whose log is a partition log
// (PartitionRaftLog) and whose term and vote are in a HardStateFile: install
// the snapshot, truncate, append, sync, then write the hard state, in that
// order (the safety argument in raft.h depends on it). The caller then sends
// rd.messages, sets the commit and advances. An error stops the group.
// kEager writes every hard state the core hands. kLazy writes it when term
// or vote changed, or the commit moved kLazyCommitEntries past the one on
// disk: commit alone is advisory to Raft (after a restart the leader's next
// commit brings it back), so a partition replica spares an fsync per produce.
// Not for a log whose restart trusts the commit on disk (the metadata log
// picks its snapshot and checks its log start by it).
#pragma once

#include <cstdint>

#include "raft/raft.h"
#include "raft/storage/hard_state_file.h"
#include "raft/storage/partition_log.h"
#include "storage/status.h"

namespace millrace::raft {

enum class CommitWrites : uint8_t { kEager, kLazy };

storage::Status write_ready(PartitionRaftLog& log, HardStateFile& hard_state, const Ready& rd,
                            CommitWrites commits = CommitWrites::kEager);

}  // namespace millrace::raft

// Steps 1-4 of raft.h's driver loop for a group whose log is a partition log
// (PartitionRaftLog) and whose term and vote are in a HardStateFile: install
// the snapshot, truncate, append, sync, then write the hard state, in that
// order (the safety argument in raft.h depends on it). The caller then sends
// rd.messages, sets the commit and advances. An error stops the group.
#pragma once

#include "raft/raft.h"
#include "raft/storage/hard_state_file.h"
#include "raft/storage/partition_log.h"
#include "storage/status.h"

namespace millrace::raft {

storage::Status write_ready(PartitionRaftLog& log, HardStateFile& hard_state, const Ready& rd);

}  // namespace millrace::raft

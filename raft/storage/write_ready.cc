#include "raft/storage/write_ready.h"

namespace millrace::raft {

storage::Status write_ready(PartitionRaftLog& log, HardStateFile& hard_state, const Ready& rd, CommitWrites commits) {
  if (rd.snapshot && !log.install_snapshot(*rd.snapshot)) return log.last_error();
  if (rd.truncate_from && !log.truncate_suffix(*rd.truncate_from)) return log.last_error();
  if (!rd.entries.empty() && !log.append(rd.entries)) return log.last_error();
  if (rd.must_sync && !log.sync()) return log.last_error();
  if (!rd.hard_state) return {};
  // Term and vote before any message leaves; a commit-only change, when the
  // caller allows, waits until it is kLazyCommitEntries ahead.
  const HardState& hs = *rd.hard_state;
  if (commits == CommitWrites::kEager || hard_state.must_write_now(hs) ||
      hs.commit.value() - hard_state.last_written().commit.value() >= kLazyCommitEntries)
    return hard_state.write(hs);
  return {};
}

}  // namespace millrace::raft

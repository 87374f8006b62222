#include "raft/storage/write_ready.h"

namespace millrace::raft {

storage::Status write_ready(PartitionRaftLog& log, HardStateFile& hard_state, const Ready& rd) {
  if (rd.snapshot && !log.install_snapshot(*rd.snapshot)) return log.last_error();
  if (rd.truncate_from && !log.truncate_suffix(*rd.truncate_from)) return log.last_error();
  if (!rd.entries.empty() && !log.append(rd.entries)) return log.last_error();
  if (rd.must_sync && !log.sync()) return log.last_error();
  if (rd.hard_state) return hard_state.write(*rd.hard_state);
  return {};
}

}  // namespace millrace::raft

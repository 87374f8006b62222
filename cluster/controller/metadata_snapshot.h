// Snapshots of the metadata state, beside the metadata log in
// `__cluster_metadata-0/`: `<offset, 20 digits>.metadata-snapshot`, holding
// the records that rebuild the state as it was after applying every entry up
// to and including `offset` (MetadataState::snapshot()). A restarting node
// loads the newest snapshot that reads back whole and replays only the log
// after it (metadata_log.h).
//
// Layout (framed as storage/checkpoint.h draws it: version byte, payload,
// CRC-32C; written atomically):
//   | version u8 = 1 | offset i64 | count i32 | count x (length i32, framed record) | crc32c u32 |
// A file that fails its CRC or does not decode is skipped (an older one, or
// the whole log, is used instead) and reported, never half-applied.
//
// The log itself is not cut below a snapshot yet: a voter far behind would
// then need the snapshot sent over, which the transport does not do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cluster/metadata/state/metadata_state.h"
#include "storage/status.h"

namespace millrace::cluster {

struct MetadataSnapshot {
  int64_t offset = -1;  // the last applied entry's offset
  MetadataState state;
};

// Writes the snapshot of `state` at `offset` into `dir`, then removes all but
// the newest `keep` snapshot files.
storage::Status write_metadata_snapshot(const std::filesystem::path& dir, int64_t offset, const MetadataState& state,
                                        int keep = 2);

// The newest readable snapshot in `dir` at or below `max_offset`; `skipped`
// gets one line per file that could not be used.
std::optional<MetadataSnapshot> load_metadata_snapshot(const std::filesystem::path& dir, int64_t max_offset,
                                                      std::vector<std::string>& skipped);

}  // namespace millrace::cluster

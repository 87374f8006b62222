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
// The log is cut below the older of the two snapshots kept (metadata_log.h):
// a replica that needs entries from before the leader's log start gets that
// snapshot over FetchSnapshot (its file bytes, checked whole before use).
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

// The bytes of the snapshot file at `offset` (FetchSnapshot's answer), if any.
std::optional<std::vector<uint8_t>> read_metadata_snapshot_file(const std::filesystem::path& dir, int64_t offset);
// The offsets of the snapshot files in `dir`, newest first.
std::vector<int64_t> metadata_snapshot_offsets(const std::filesystem::path& dir);
// Stores a snapshot file fetched from the leader: decoded whole first (a file
// that does not read back, or names another offset, is refused with
// kCorruptSegment and not written), then written atomically; all but the
// newest `keep` files are removed.
storage::Status store_metadata_snapshot_file(const std::filesystem::path& dir, int64_t offset,
                                             const std::vector<uint8_t>& bytes, int keep = 2);

}  // namespace millrace::cluster

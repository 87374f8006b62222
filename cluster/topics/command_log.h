// TopicCommandLog: this node's durable, ordered record of topic commands (the
// controller's Raft log takes its place later) and the table's snapshot that
// bounds it. Files, in one directory (the broker's first log dir):
//
// topics.log: records, appended one at a time and fdatasync'ed before the
// command is applied (append() returns only then):
//   +------------+----------------+-------------------+------------+
//   | length u32 | version u8 = 1 | payload           | crc32c u32 |
//   +------------+----------------+-------------------+------------+
//   big-endian; length counts the bytes after it (version, payload, crc); the
//   version..crc part is storage::encode_framed (checkpoint.h), so the crc
//   covers version and payload. Payload: one command and its offset
//   (topic_codec.h); offsets go up by one from record to record.
// topics.snapshot: storage::encode_framed(version 1, the table's JSON with the
//   offset of its last command), written with write_file_atomic.
// topics.json: the file this replaces (framed version 2, or the unframed JSON
//   before it). Read once, when no snapshot exists, as the first snapshot
//   (offset 0), which is written before topics.json is removed.
//
// Recovery (open): the snapshot, then the records above its offset (records at
// or below it are what a crash between writing a snapshot and emptying the log
// leaves; they are skipped). The last record may be torn: cut short, zeros, or
// failing its CRC (its append never returned, so nothing was applied from it);
// it is dropped and the file cut back to the record before it. Any other damage
// (a bad CRC or an unknown version before the last record, a record that is not
// JSON, an offset out of sequence) fails open with the file, the byte position
// and the reason: never guessed around, since a lost command would mint new
// topic ids or resurrect a deleted topic.
//
// Compaction (write_snapshot): the snapshot is written atomically first, then
// the log is cut to zero bytes and fdatasync'ed; a crash in between leaves
// records the snapshot already covers.
//
// A failed append is cut back off the file; if even that fails, the log is
// broken and refuses every later append (until a restart recovers it).
//
// Thread-safety: none; one owner thread (topic_controller.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cluster/topics/topic_codec.h"
#include "cluster/topics/topic_table.h"
#include "storage/env.h"
#include "storage/status.h"

namespace millrace::cluster {

class TopicCommandLog {
 public:
  static constexpr uint8_t kRecordVersion = 1;
  static constexpr uint8_t kSnapshotVersion = 1;
  static constexpr uint8_t kLegacyFileVersion = 2;  // topics.json, framed
  static constexpr const char* kLogName = "topics.log";
  static constexpr const char* kSnapshotName = "topics.snapshot";

  struct Recovered {
    TopicTable snapshot;                  // the table at the snapshot's offset
    std::vector<LoggedCommand> commands;  // after it, in order
    std::vector<std::string> notes;       // what recovery did (migration, a dropped torn record)
  };

  // `legacy_file`: topics.json's path (empty: none). env null: Env::posix().
  TopicCommandLog(std::filesystem::path dir, std::filesystem::path legacy_file, storage::Env* env = nullptr);

  // Recovers as drawn above; creates the log file (and fsyncs the directory)
  // when it is missing, so appends never add a directory entry.
  storage::Result<Recovered> open();

  // REQUIRES: open() succeeded; c.offset is one above the last record's (or
  // the snapshot's). Durable when it returns ok.
  storage::Status append(const LoggedCommand& c);

  // Makes `table` the snapshot and empties the log.
  // REQUIRES: `table` includes every appended command.
  storage::Status write_snapshot(const TopicTable& table);

  int64_t records() const { return records_; }  // since the snapshot
  int64_t bytes() const { return size_; }

  // One record's bytes (length prefix included), for tests.
  static std::vector<uint8_t> encode_record(const LoggedCommand& c);

  std::filesystem::path log_path() const { return dir_ / kLogName; }
  std::filesystem::path snapshot_path() const { return dir_ / kSnapshotName; }

 private:
  storage::Result<TopicTable> read_snapshot();
  storage::Status read_records(int64_t after, Recovered& out);

  std::filesystem::path dir_;
  std::filesystem::path legacy_;
  storage::Env* env_;
  int64_t size_ = 0;      // bytes of whole records in the log
  int64_t records_ = 0;   // records in the log (skipped ones included)
  int64_t last_offset_ = 0;
  storage::Status broken_;
};

}  // namespace millrace::cluster

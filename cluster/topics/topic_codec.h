// The JSON text of commands and of the table: the payloads of the command
// log's records and of its snapshot (command_log.h draws the files around them).
//
// Command (one record):
//   {"offset": N, "type": "create_topic", "name": "...", "id": "<32 hex>",
//    "partitions": N, "configs": {"k": "v"}, "internal": bool, "adopted": bool}
//   {"offset": N, "type": "delete_topic", "name": "...", "id": "<32 hex>"}
//   {"offset": N, "type": "add_partitions", "name": "...", "total": N, "adopted": bool}
//   {"offset": N, "type": "alter_configs", "name": "...", "replace": bool,
//    "changes": {"k": "v" | null}}          (null deletes the key)
// Table (the snapshot, and the older topics.json this replaces):
//   {"version": 1, "offset": N,
//    "topics": {"<name>": {"id": "<32 hex>", "partitions": N, "internal": bool,
//                          "configs": {"retention.ms": "..."}}}}
//   "offset" (the last command the table includes) is absent from topics.json: 0.
//
// Pure functions; decoding returns kCorruptSegment with the reason, never throws.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "cluster/topics/topic_command.h"
#include "cluster/topics/topic_table.h"
#include "storage/status.h"

namespace millrace::cluster {

struct LoggedCommand {
  int64_t offset = 0;
  TopicCommand command;
};

std::string encode_command(const LoggedCommand& c);
storage::Result<LoggedCommand> decode_command(std::span<const uint8_t> text);

std::string encode_table(const TopicTable& table);
storage::Result<TopicTable> decode_table(std::span<const uint8_t> text);

}  // namespace millrace::cluster

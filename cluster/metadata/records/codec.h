// Kafka's metadata records in their log frame (KRaft's MetadataRecordSerde):
//
//   unsigned varint  frame version (1)
//   unsigned varint  record type   (the definition's apiKey: 2 = TopicRecord, ...)
//   unsigned varint  record version
//   the record, in that version (every metadata record is flexible: tagged fields)
//
// Generated from ../shared/kafka-protocol/metadata by tools/protocol-gen --set
// metadata (generated/). The controller quorum's log holds these, one per Raft
// entry batch item; every broker decodes them into its metadata image. Pure
// functions. Bad input never throws or crashes: decode names what is wrong
// (frame version, unknown type, version out of range, a truncated or
// over-long record).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "cluster/metadata/records/generated/messages.h"

namespace millrace::cluster::records {

inline constexpr uint32_t kFrameVersion = 1;

// Any metadata record (a std::variant over every generated record type).
using AnyRecord = WithAllMessages<std::variant>;

struct VersionedRecord {
  int16_t version = 0;
  AnyRecord record;
};

// The type (apiKey) of whatever `r` holds.
int16_t record_type(const AnyRecord& r);

// The framed bytes of `r` in `version`. REQUIRES: version within the record's
// valid versions.
std::vector<uint8_t> encode_record(const AnyRecord& r, int16_t version);

// The same, in the record type's highest version (what this code writes).
std::vector<uint8_t> encode_record(const AnyRecord& r);

struct DecodedRecord {
  VersionedRecord value;
  std::string error;  // empty when good
  bool ok() const { return error.empty(); }
};

DecodedRecord decode_record(std::span<const uint8_t> bytes);

}  // namespace millrace::cluster::records

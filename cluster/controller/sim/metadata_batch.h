// One simulated metadata-log entry's payload (cluster/controller/sim): a batch
// of framed metadata records (records/codec.h), each behind its length.
//
//   repeated:
//     uint32 big-endian  length of the framed record
//     bytes              the framed record (frame version, type, version, record)
//
// The real log wraps the same framed records in a Kafka record batch
// (metadata_log.h); the simulator needs only the records and their order.
// Pure; decoding names what is wrong, never throws.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cluster/metadata/records/codec.h"

namespace millrace::cluster::sim {

std::vector<uint8_t> encode_batch(const std::vector<records::AnyRecord>& records);

struct DecodedBatch {
  std::vector<records::AnyRecord> records;
  std::string error;  // empty when good
  bool ok() const { return error.empty(); }
};

DecodedBatch decode_batch(std::span<const uint8_t> bytes);

// One line for a trace or a failure message: the record's type and key fields.
std::string describe(const records::AnyRecord& record);

}  // namespace millrace::cluster::sim

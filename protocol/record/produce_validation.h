// What a partition leader must check in a batch a client produced, before it
// assigns offsets, following Apache Kafka's LogValidator for magic 2. The
// broker maps the result to Kafka error codes:
//   kCorrupt                  -> CORRUPT_MESSAGE (CRC, damaged codec stream)
//   kUnsupportedMagic         -> UNSUPPORTED_FOR_MESSAGE_FORMAT
//   kInvalid, kTruncated      -> INVALID_RECORD / CORRUPT_MESSAGE
// Topic-level policies (timestamps vs message.timestamp.*, null keys on compacted
// topics, max.message.bytes) use the facts returned; they are the broker's call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/record/batch_header.h"
#include "protocol/record/codec.h"

namespace millrace::record {

struct ProducedBatchFacts {
  BatchHeader header{};
  int64_t min_timestamp = 0;        // over the records (CreateTime view)
  int64_t max_timestamp = 0;        // over the records; header.max_timestamp may differ
  bool has_null_key = false;        // refused on cleanup.policy=compact topics
  size_t uncompressed_bytes = 0;    // records section after decompression
};

// Checks, in order: the header and CRC (validate_batch); exactly one batch
// (no trailing bytes); not a control batch; at least one record;
// record_count == last_offset_delta + 1; every record readable with
// offset_delta == its index (Kafka: "inner offsets must be consecutive").
// Fills `facts` on success. `scratch` holds decompressed records.
BatchStatus validate_produced_batch(std::span<const uint8_t> batch, std::vector<uint8_t>& scratch,
                                    ProducedBatchFacts& facts,
                                    size_t max_decompressed = kDefaultMaxDecompressed);

}  // namespace millrace::record

// Reads the records of one v2 batch, decompressing them first when the batch
// carries a codec. Record layout: record.h; header layout: batch_header.h.
//
// Usage:
//   std::vector<uint8_t> scratch;            // reused across batches
//   RecordReader reader(batch, scratch);
//   Record rec;
//   while (reader.next(rec)) { ... }
//   if (!reader.status().ok()) { ... reader.status().detail ... }
//
// The reader does not check the CRC: bytes from the network or disk should go
// through validate_batch() first. Everything else is checked: record lengths
// against their fields, varints, negative lengths, the number of records against
// record_count, bytes left after the last record, the decompressed size limit.
// Not thread-safe; one reader per thread. Never throws.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "protocol/record/batch_header.h"
#include "protocol/record/codec.h"
#include "protocol/record/record.h"
#include "protocol/wire/reader.h"

namespace millrace::record {

class RecordReader {
 public:
  // REQUIRES: `batch` and `scratch` outlive the reader and the records it returns.
  RecordReader(std::span<const uint8_t> batch, std::vector<uint8_t>& scratch,
               size_t max_decompressed = kDefaultMaxDecompressed);

  const BatchHeader& header() const { return header_; }
  BatchStatus status() const { return status_; }
  int32_t records_read() const { return read_; }

  // Fills `rec` with the next record. False at the end (status().ok()) or on the
  // first error (status() says which); after false, next() keeps returning false.
  bool next(Record& rec);

 private:
  bool fail(BatchError e, const char* detail);

  BatchHeader header_{};
  wire::Reader in_{{}};
  int32_t read_ = 0;
  bool done_ = false;
  BatchStatus status_;
};

// Calls fn for every record until fn returns false. Returns the reader's status
// (ok also when fn stopped early).
BatchStatus for_each_record(std::span<const uint8_t> batch, const std::function<bool(const Record&)>& fn,
                            std::vector<uint8_t>& scratch, size_t max_decompressed = kDefaultMaxDecompressed);

}  // namespace millrace::record

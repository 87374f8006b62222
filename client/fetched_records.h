// One partition's records from one Fetch response, decoded lazily by poll().
//
//   Fetch response frame (one heap buffer, shared by all partitions in it)
//   +-------------------------------------------------------------------+
//   | ... | partition p records: [batch][batch]...[batch][cut batch?] | ...
//   +-------------------------------------------------------------------+
//            ^ batches_                          ^ end of complete batches
//
// The io thread builds a FetchedRecords as the response arrives: it walks the
// batch headers only (8-byte base offset, 4-byte length) to find where the
// complete batches end, which gives the next fetch offset at once, and keeps a
// reference to the frame. A trailing batch cut by the broker's size limit is
// dropped here and fetched again from its start by the next Fetch.
//
// poll() then drains it on the application thread: each batch's CRC-32C is
// checked (hardware path, protocol/record/crc32c.h) just before its records are
// decoded, while the batch is in cache (checking all batches on the io thread as
// the response arrives was tried: a separate pass over megabytes that left cache
// before decoding, +25% user CPU and slower), control batches are skipped,
// records below the fetch offset (a compressed batch starts before it) are
// skipped, the rest are copied into ConsumerRecords. Draining stops only between
// batches. Not thread-safe: one thread at a time (the consumer hands it over
// under its lock).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "client/connection.h"
#include "client/consumer_record.h"
#include "client/result.h"

namespace millrace::client {

class FetchedRecords {
 public:
  // REQUIRES: `records` lies inside *frame (or frame is null and records outlive this).
  FetchedRecords(std::shared_ptr<const ResponseFrame> frame, std::span<const uint8_t> records, int64_t fetch_offset);

  // One past the last complete batch; fetch_offset when there is none.
  int64_t next_fetch_offset() const { return next_fetch_offset_; }
  // Offset after the last batch drained so far (the consumed position once done()).
  int64_t position() const { return position_; }
  // True when every complete batch has been drained (or there was none).
  bool done() const { return batches_.empty(); }
  size_t bytes() const { return batches_.size(); }   // complete-batch bytes left

  // Appends the records of whole batches to `out` while out.size() < max_records.
  // On a bad batch (CRC mismatch, malformed, old magic) stops and returns
  // CORRUPT_MESSAGE naming the partition and the offset; records decoded before it
  // stay in `out` and position() stays before the bad batch.
  Status drain(const std::string& topic, int32_t partition, std::vector<ConsumerRecord>& out, size_t max_records,
               std::vector<uint8_t>& scratch);

 private:
  std::shared_ptr<const ResponseFrame> frame_;
  std::span<const uint8_t> batches_;   // complete batches not drained yet
  int64_t start_offset_;               // records below it are not returned
  int64_t position_;
  int64_t next_fetch_offset_;
};

}  // namespace millrace::client

#include "protocol/record/produce_validation.h"

#include <algorithm>

#include "protocol/record/record_reader.h"

namespace millrace::record {

BatchStatus validate_produced_batch(std::span<const uint8_t> batch, std::vector<uint8_t>& scratch,
                                    ProducedBatchFacts& facts, size_t max_decompressed) {
  if (BatchError e = validate_batch(batch); e != BatchError::kOk) return {e, "bad batch header or checksum"};
  HeaderResult hr = parse_batch_header(batch);
  const BatchHeader& h = hr.header;
  if (batch.size() != h.total_size()) return {BatchError::kInvalid, "bytes after the batch"};
  if (h.is_control()) return {BatchError::kInvalid, "clients may not produce control batches"};
  if (h.record_count == 0) return {BatchError::kInvalid, "batch has no records"};
  if (static_cast<int64_t>(h.record_count) != static_cast<int64_t>(h.last_offset_delta) + 1)
    return {BatchError::kInvalid, "record_count does not match last_offset_delta"};

  RecordReader reader(batch, scratch, max_decompressed);
  ProducedBatchFacts f;
  f.header = h;
  Record rec;
  int32_t index = 0;
  while (reader.next(rec)) {
    if (rec.offset_delta != index) return {BatchError::kInvalid, "record offsets are not consecutive"};
    int64_t ts = wrapping_add(h.base_timestamp, rec.timestamp_delta);
    f.min_timestamp = index == 0 ? ts : std::min(f.min_timestamp, ts);
    f.max_timestamp = index == 0 ? ts : std::max(f.max_timestamp, ts);
    f.has_null_key |= !rec.key.has_value();
    ++index;
  }
  if (!reader.status().ok()) return reader.status();
  f.uncompressed_bytes = h.compression() == Compression::kNone ? h.total_size() - kBatchHeaderSize : scratch.size();
  facts = f;
  return {};
}

}  // namespace millrace::record

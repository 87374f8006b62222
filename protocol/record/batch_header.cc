#include "protocol/record/batch_header.h"

#include <bit>
#include <cstring>

#include "protocol/record/crc32c.h"
#include "protocol/wire/byteswap.h"
#include "protocol/wire/reader.h"

namespace millrace::record {
namespace {

template <typename T>
void store_be(std::span<uint8_t> b, size_t at, T v) {
  using U = std::make_unsigned_t<T>;
  U u = wire::byteswap(static_cast<U>(v));
  std::memcpy(b.data() + at, &u, sizeof(U));
}

template <typename T>
T load_be(std::span<const uint8_t> b, size_t at) {
  using U = std::make_unsigned_t<T>;
  U u;
  std::memcpy(&u, b.data() + at, sizeof(U));
  return static_cast<T>(wire::byteswap(u));
}

}  // namespace

const char* to_string(BatchError e) {
  switch (e) {
    case BatchError::kOk: return "ok";
    case BatchError::kTruncated: return "truncated";
    case BatchError::kUnsupportedMagic: return "unsupported magic (message format v0/v1)";
    case BatchError::kInvalid: return "invalid";
    case BatchError::kCorrupt: return "corrupt";
  }
  return "unknown";
}

HeaderResult parse_batch_header(std::span<const uint8_t> bytes) {
  HeaderResult r{BatchError::kTruncated, {}};
  if (bytes.size() <= kMagicOffset) return r;
  int8_t magic = static_cast<int8_t>(bytes[kMagicOffset]);
  if (magic == 0 || magic == 1) { r.error = BatchError::kUnsupportedMagic; return r; }
  if (magic != kMagicV2) { r.error = BatchError::kInvalid; return r; }
  if (bytes.size() < kBatchHeaderSize) return r;

  wire::Reader in(bytes.first(kBatchHeaderSize));
  BatchHeader& h = r.header;
  h.base_offset = in.int64();
  h.batch_length = in.int32();
  h.partition_leader_epoch = in.int32();
  h.magic = in.int8();
  h.crc = in.uint32();
  h.attributes = in.int16();
  h.last_offset_delta = in.int32();
  h.base_timestamp = in.int64();
  h.max_timestamp = in.int64();
  h.producer_id = in.int64();
  h.producer_epoch = in.int16();
  h.base_sequence = in.int32();
  h.record_count = in.int32();
  if (h.batch_length < kMinBatchLength || h.record_count < 0 || h.last_offset_delta < 0) {
    r.error = BatchError::kInvalid;
    return r;
  }
  r.error = BatchError::kOk;
  return r;
}

uint32_t compute_crc(std::span<const uint8_t> whole_batch) {
  auto covered = whole_batch.subspan(kAttributesOffset);
  return crc32c(0, covered.data(), covered.size());
}

BatchError validate_batch(std::span<const uint8_t> whole_batch) {
  HeaderResult hr = parse_batch_header(whole_batch);
  if (hr.error != BatchError::kOk) return hr.error;
  size_t total = hr.header.total_size();
  if (whole_batch.size() < total) return BatchError::kTruncated;
  if (compute_crc(whole_batch.first(total)) != hr.header.crc) return BatchError::kCorrupt;
  return BatchError::kOk;
}

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  store_be<int64_t>(batch, 0, base_offset);
}

void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  store_be<int32_t>(batch, kLeaderEpochOffset, epoch);
}

void update_crc(std::span<uint8_t> batch) {
  int32_t length = load_be<int32_t>(batch, kBatchLengthOffset);
  size_t total = 12 + static_cast<size_t>(length);
  store_be<uint32_t>(batch, kCrcOffset, compute_crc(batch.first(total)));
}

void set_max_timestamp_log_append(std::span<uint8_t> batch, int64_t ts) {
  int16_t attributes = load_be<int16_t>(batch, kAttributesOffset);
  store_be<int16_t>(batch, kAttributesOffset, static_cast<int16_t>(attributes | kTimestampTypeBit));
  store_be<int64_t>(batch, kMaxTimestampOffset, ts);
  update_crc(batch);
}

}  // namespace millrace::record

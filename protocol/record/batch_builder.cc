#include "protocol/record/batch_builder.h"

#include <algorithm>
#include <cassert>
#include <climits>

#include "protocol/record/codec.h"
#include "protocol/wire/writer.h"

namespace millrace::record {
namespace {

size_t nullable_size(const std::optional<Bytes>& b) {
  return b ? wire::Writer::varint_size(static_cast<int64_t>(b->size())) + b->size()
           : wire::Writer::varint_size(-1);
}

void write_nullable(wire::Writer& w, const std::optional<Bytes>& b) {
  if (!b) { w.varint(-1); return; }
  w.varint(static_cast<int32_t>(b->size()));
  w.bytes(*b);
}

}  // namespace

void BatchBuilder::append(int64_t timestamp, std::optional<Bytes> key, std::optional<Bytes> value,
                          std::span<const Header> headers) {
  if (count_ == 0) { base_timestamp_ = timestamp; max_timestamp_ = timestamp; }
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  // Wrapping subtraction (see wrapping_add): any int64 timestamps round-trip.
  const int64_t ts_delta =
      static_cast<int64_t>(static_cast<uint64_t>(timestamp) - static_cast<uint64_t>(base_timestamp_));
  const int32_t offset_delta = count_;

  size_t body = 1 + wire::Writer::varint_size(ts_delta) + wire::Writer::varint_size(offset_delta) +
                nullable_size(key) + nullable_size(value) +
                wire::Writer::varint_size(static_cast<int64_t>(headers.size()));
  for (const Header& h : headers)
    body += wire::Writer::varint_size(static_cast<int64_t>(h.key.size())) + h.key.size() + nullable_size(h.value);

  wire::Writer w(records_);
  w.varint(static_cast<int32_t>(body));
  [[maybe_unused]] const size_t start = records_.size();
  w.int8(0);  // record attributes: unused
  w.varlong(ts_delta);
  w.varint(offset_delta);
  write_nullable(w, key);
  write_nullable(w, value);
  w.varint(static_cast<int32_t>(headers.size()));
  for (const Header& h : headers) {
    w.varint(static_cast<int32_t>(h.key.size()));
    w.string(h.key);
    write_nullable(w, h.value);
  }
  // Invariant: the length prefix matches the bytes written.
  assert(records_.size() - start == body);
  ++count_;
}

BatchStatus BatchBuilder::finish(std::vector<uint8_t>& out) {
  if (count_ == 0) return {BatchError::kInvalid, "a batch needs at least one record"};
  int16_t attributes = static_cast<int16_t>(options_.compression);
  if (options_.timestamp_type == TimestampType::kLogAppendTime) attributes |= kTimestampTypeBit;
  if (options_.transactional) attributes |= kTransactionalBit;
  if (options_.control) attributes |= kControlBit;

  const size_t at = out.size();
  wire::Writer w(out);
  w.int64(options_.base_offset);
  size_t length_at = w.reserve_int32();
  w.int32(options_.partition_leader_epoch);
  w.int8(kMagicV2);
  size_t crc_at = w.reserve_int32();
  w.int16(attributes);
  w.int32(count_ - 1);  // last_offset_delta
  w.int64(base_timestamp_);
  w.int64(max_timestamp_);
  w.int64(options_.producer_id);
  w.int16(options_.producer_epoch);
  w.int32(options_.base_sequence);
  w.int32(count_);
  BatchStatus s = compress(options_.compression, records_, out, options_.compression_level);
  if (!s.ok()) { out.resize(at); return s; }
  const size_t total = out.size() - at;
  if (total - 12 > static_cast<size_t>(INT32_MAX)) { out.resize(at); return {BatchError::kInvalid, "batch too large"}; }
  w.patch_int32(length_at, static_cast<int32_t>(total - 12));
  std::span<const uint8_t> batch(out.data() + at, total);
  w.patch_uint32(crc_at, compute_crc(batch));

  records_.clear();
  count_ = 0;
  return {};
}

}  // namespace millrace::record

#include "protocol/record/recompress.h"

#include <climits>
#include <cstring>

#include "protocol/record/record_reader.h"
#include "protocol/wire/writer.h"

namespace millrace::record {

BatchStatus recompress_batch(std::span<const uint8_t> batch, Compression codec, std::vector<uint8_t>& out,
                             std::vector<uint8_t>& scratch, int level, size_t max_decompressed) {
  RecordReader reader(batch, scratch, max_decompressed);
  Record rec;
  while (reader.next(rec)) {}
  if (!reader.status().ok()) return reader.status();
  const BatchHeader& h = reader.header();
  std::span<const uint8_t> records = h.compression() == Compression::kNone
                                         ? batch.subspan(kBatchHeaderSize, h.total_size() - kBatchHeaderSize)
                                         : std::span<const uint8_t>(scratch);

  const size_t at = out.size();
  out.insert(out.end(), batch.begin(), batch.begin() + kBatchHeaderSize);
  BatchStatus s = compress(codec, records, out, level);
  if (!s.ok()) { out.resize(at); return s; }
  const size_t total = out.size() - at;
  if (total - 12 > static_cast<size_t>(INT32_MAX)) { out.resize(at); return {BatchError::kInvalid, "batch too large"}; }
  std::span<uint8_t> fresh(out.data() + at, total);
  wire::Writer w(out);
  w.patch_int32(at + kBatchLengthOffset, static_cast<int32_t>(total - 12));
  const uint16_t attributes = static_cast<uint16_t>((h.attributes & ~kCompressionMask) | static_cast<int16_t>(codec));
  fresh[kAttributesOffset] = static_cast<uint8_t>(attributes >> 8);
  fresh[kAttributesOffset + 1] = static_cast<uint8_t>(attributes);
  update_crc(fresh);
  return {};
}

}  // namespace millrace::record

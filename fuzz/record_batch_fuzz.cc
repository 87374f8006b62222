// Fuzzes the record batch decoder with untrusted bytes. The first input byte
// picks how the rest is used:
//   mode 0  the bytes are a whole batch: parse, validate (also as a produced
//           batch), read every record
//   mode 1  the bytes are the records section of a batch whose header we write,
//           with a correct length and CRC; the second byte gives the codec (bits
//           0-2) and the record count (bits 3-7), so the fuzzer reaches the
//           record parser behind every codec directly
//   mode 2  the bytes go straight to decompress() with the codec from byte two
// Decoded records are rebuilt with BatchBuilder and read again, and the batch is
// re-encoded with recompress_batch() and read again: all readings must agree
// (an oracle, not just "no crash").
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/record/batch_builder.h"
#include "protocol/record/batch_header.h"
#include "protocol/record/codec.h"
#include "protocol/record/record_reader.h"
#include "protocol/record/produce_validation.h"
#include "protocol/record/recompress.h"
#include "protocol/wire/writer.h"

namespace {

using namespace millrace::record;

constexpr size_t kLimit = 4 << 20;  // decompression bound for the fuzzer

struct Copy {
  int64_t offset, timestamp;
  std::optional<std::vector<uint8_t>> key, value;
  std::vector<std::pair<std::string, std::optional<std::vector<uint8_t>>>> headers;
};

std::optional<std::vector<uint8_t>> copy(const std::optional<Bytes>& b) {
  if (!b) return std::nullopt;
  return std::vector<uint8_t>(b->begin(), b->end());
}

void check(bool cond) {
  if (!cond) std::abort();
}

void read_and_rebuild(std::span<const uint8_t> batch, Compression recompress_to) {
  std::vector<uint8_t> scratch;
  RecordReader reader(batch, scratch, kLimit);
  std::vector<Copy> seen;
  Record rec;
  while (reader.next(rec)) {
    Copy c{record_offset(reader.header(), rec), record_timestamp(reader.header(), rec), copy(rec.key),
           copy(rec.value), {}};
    for (const Header& h : rec.headers) c.headers.emplace_back(std::string(h.key), copy(h.value));
    seen.push_back(std::move(c));
  }
  if (!reader.status().ok() || seen.empty()) return;

  // Oracle 1: re-encoding with another codec keeps every record and field.
  std::vector<uint8_t> other, scratch2;
  check(recompress_batch(batch, recompress_to, other, scratch2, 0, kLimit).ok());
  check(validate_batch(other) == BatchError::kOk);
  size_t j = 0;
  check(for_each_record(other, [&](const Record& r) {
    check(j < seen.size());
    check(record_offset(parse_batch_header(other).header, r) == seen[j].offset);
    check(record_timestamp(parse_batch_header(other).header, r) == seen[j].timestamp);
    check(copy(r.key) == seen[j].key && copy(r.value) == seen[j].value);
    ++j;
    return true;
  }, scratch2, SIZE_MAX).ok() && j == seen.size());
  if (reader.header().timestamp_type() == TimestampType::kLogAppendTime) return;

  // Oracle 2: what we read, written back with the builder, reads the same.
  BatchOptions opts;
  opts.base_offset = reader.header().base_offset;
  opts.compression = reader.header().compression();
  BatchBuilder builder(opts);
  for (const Copy& c : seen) {
    std::vector<Header> hs;
    for (const auto& [k, v] : c.headers) hs.push_back({k, v ? std::optional<Bytes>(*v) : std::nullopt});
    builder.append(c.timestamp, c.key ? std::optional<Bytes>(*c.key) : std::nullopt,
                   c.value ? std::optional<Bytes>(*c.value) : std::nullopt, hs);
  }
  std::vector<uint8_t> rebuilt;
  check(builder.finish(rebuilt).ok());
  check(validate_batch(rebuilt) == BatchError::kOk);
  size_t i = 0;
  auto s = for_each_record(rebuilt, [&](const Record& r) {
    check(i < seen.size());
    // Offsets are renumbered from base_offset; timestamps are kept.
    check(record_offset(parse_batch_header(rebuilt).header, r) == opts.base_offset + static_cast<int64_t>(i));
    check(record_timestamp(parse_batch_header(rebuilt).header, r) == seen[i].timestamp);
    check(copy(r.key) == seen[i].key && copy(r.value) == seen[i].value);
    check(r.headers.size() == seen[i].headers.size());
    ++i;
    return true;
  }, scratch, SIZE_MAX);
  check(s.ok() && i == seen.size());
}

std::vector<uint8_t> wrap(std::span<const uint8_t> records, uint8_t selector) {
  std::vector<uint8_t> b;
  millrace::wire::Writer w(b);
  w.int64(0);
  w.int32(static_cast<int32_t>(kBatchHeaderSize - 12 + records.size()));
  w.int32(0);
  w.int8(kMagicV2);
  w.uint32(0);
  w.int16(static_cast<int16_t>(selector & kCompressionMask));
  w.int32(0x7fffffff);  // last offset delta: any non-negative value
  w.int64(0);
  w.int64(0);
  w.int64(-1);
  w.int16(-1);
  w.int32(-1);
  w.int32(selector >> 3);  // record count
  w.bytes(records);
  update_crc(b);
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::span<const uint8_t> in(data + 2, size - 2);
  switch (data[0] % 3) {
    case 0: {
      HeaderResult h = parse_batch_header(in);
      BatchError v = validate_batch(in);
      if (h.error != BatchError::kOk) check(v == h.error);
      std::vector<uint8_t> scratch;
      ProducedBatchFacts facts;
      BatchStatus p = validate_produced_batch(in, scratch, facts, kLimit);
      if (p.ok()) check(v == BatchError::kOk && facts.header.record_count == facts.header.last_offset_delta + 1);
      read_and_rebuild(in, static_cast<Compression>(data[1] % 5));
      break;
    }
    case 1:
      read_and_rebuild(wrap(in, data[1]), static_cast<Compression>((data[1] >> 3) % 5));
      break;
    case 2: {
      std::vector<uint8_t> out;
      auto s = decompress(static_cast<Compression>(data[1] % 6), in, out, kLimit);
      check(out.size() <= kLimit || !s.ok());
      break;
    }
  }
  return 0;
}

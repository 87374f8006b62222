#include "protocol/record/record_reader.h"

namespace millrace::record {
namespace {

// Reads a nullable byte field (varint length, -1 = null) from `r`.
bool read_nullable(wire::Reader& r, std::optional<Bytes>& out) {
  int32_t len = r.varint();
  if (!r.ok() || len < -1) return false;
  if (len == -1) { out.reset(); return true; }
  if (static_cast<size_t>(len) > r.remaining()) return false;
  out = r.bytes(static_cast<size_t>(len));
  return true;
}

}  // namespace

RecordReader::RecordReader(std::span<const uint8_t> batch, std::vector<uint8_t>& scratch,
                           size_t max_decompressed) {
  HeaderResult hr = parse_batch_header(batch);
  if (hr.error != BatchError::kOk) { fail(hr.error, "bad batch header"); return; }
  header_ = hr.header;
  if (batch.size() < header_.total_size()) { fail(BatchError::kTruncated, "batch shorter than batch_length"); return; }
  std::span<const uint8_t> records = batch.subspan(kBatchHeaderSize, header_.total_size() - kBatchHeaderSize);
  if (header_.compression() == Compression::kNone) {
    in_ = wire::Reader(records);
    return;
  }
  BatchStatus s = decompress(header_.compression(), records, scratch, max_decompressed);
  if (!s.ok()) { fail(s.error, s.detail); return; }
  in_ = wire::Reader(scratch);
}

bool RecordReader::fail(BatchError e, const char* detail) {
  status_ = {e, detail};
  done_ = true;
  return false;
}

bool RecordReader::next(Record& rec) {
  if (done_) return false;
  if (read_ == header_.record_count) {
    done_ = true;
    if (!in_.at_end()) return fail(BatchError::kInvalid, "bytes after the last record");
    return false;
  }
  if (in_.at_end()) return fail(BatchError::kInvalid, "fewer records than record_count");
  int32_t length = in_.varint();
  if (!in_.ok()) return fail(BatchError::kInvalid, "bad record length varint");
  if (length < 0 || static_cast<size_t>(length) > in_.remaining())
    return fail(BatchError::kInvalid, "record length out of range");
  wire::Reader r(in_.bytes(static_cast<size_t>(length)));

  rec.attributes = r.int8();
  rec.timestamp_delta = r.varlong();
  rec.offset_delta = r.varint();
  if (!r.ok()) return fail(BatchError::kInvalid, "bad record attributes/timestamp/offset");
  if (!read_nullable(r, rec.key)) return fail(BatchError::kInvalid, "bad record key");
  if (!read_nullable(r, rec.value)) return fail(BatchError::kInvalid, "bad record value");
  int32_t header_count = r.varint();
  // Each header takes at least two bytes: a cheap bound before reserving.
  if (!r.ok() || header_count < 0 || static_cast<size_t>(header_count) > r.remaining() / 2)
    return fail(BatchError::kInvalid, "bad record header count");
  rec.headers.clear();
  rec.headers.reserve(static_cast<size_t>(header_count));
  for (int32_t i = 0; i < header_count; ++i) {
    int32_t key_len = r.varint();
    if (!r.ok() || key_len < 0 || static_cast<size_t>(key_len) > r.remaining())
      return fail(BatchError::kInvalid, "bad record header key");
    Header h;
    h.key = r.string(static_cast<size_t>(key_len));
    if (!read_nullable(r, h.value)) return fail(BatchError::kInvalid, "bad record header value");
    rec.headers.push_back(h);
  }
  if (!r.at_end()) return fail(BatchError::kInvalid, "record length does not match its fields");
  ++read_;
  return true;
}

BatchStatus for_each_record(std::span<const uint8_t> batch, const std::function<bool(const Record&)>& fn,
                            std::vector<uint8_t>& scratch, size_t max_decompressed) {
  RecordReader reader(batch, scratch, max_decompressed);
  Record rec;
  while (reader.next(rec))
    if (!fn(rec)) break;
  return reader.status();
}

}  // namespace millrace::record

#include "client/producer_batch.h"

#include "protocol/wire/writer.h"

namespace millrace::client {

namespace {
size_t nullable_size(const std::optional<std::string>& b) {
  return b ? wire::Writer::varint_size(static_cast<int64_t>(b->size())) + b->size() : 1;   // varint(-1)
}
}  // namespace

size_t encoded_record_size(const PendingRecord& r, int32_t offset_delta, int64_t timestamp_delta) {
  size_t body = 1 + wire::Writer::varint_size(timestamp_delta) + wire::Writer::varint_size(offset_delta) +
                nullable_size(r.key) + nullable_size(r.value) +
                wire::Writer::varint_size(static_cast<int64_t>(r.headers.size()));
  for (const auto& h : r.headers)
    body += wire::Writer::varint_size(static_cast<int64_t>(h.key.size())) + h.key.size() + nullable_size(h.value);
  return wire::Writer::varint_size(static_cast<int64_t>(body)) + body;
}

size_t estimate_record_size(const PendingRecord& r) {
  size_t n = 5 + 1 + 10 + 5 + 5 + 5 + 5;
  if (r.key) n += r.key->size();
  if (r.value) n += r.value->size();
  for (const auto& h : r.headers) n += 10 + h.key.size() + (h.value ? h.value->size() : 0);
  return n;
}

void ProducerBatch::complete(int64_t base_offset, int64_t log_append_time_ms, const Error& error) {
  for (size_t i = 0; i < records.size(); ++i) {
    auto& r = records[i];
    if (!r.callback) continue;
    RecordMetadata md;
    md.tp = tp;
    md.offset = (error.ok() && base_offset >= 0) ? base_offset + static_cast<int64_t>(i) : -1;
    md.timestamp_ms = log_append_time_ms >= 0 ? log_append_time_ms : r.timestamp_ms;
    r.callback(md, error);
  }
}

}  // namespace millrace::client

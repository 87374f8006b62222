#include "client/producer_batch.h"

namespace millrace::client {

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

#include "broker/core/offsets_store.h"

#include <unistd.h>

#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"
#include "storage/log.h"

namespace millrace::broker {

bool OffsetsLogStore::append(const std::vector<coordination::StoredRecord>& records) {
  if (records.empty()) return true;
  record::BatchBuilder builder(record::BatchOptions{});
  int64_t now = storage::system_clock_ms();
  for (const auto& r : records) {
    std::optional<record::Bytes> value;
    if (r.value) value = record::Bytes(*r.value);
    builder.append(now, record::Bytes(r.key), value);
  }
  std::vector<uint8_t> batch;
  if (!builder.finish(batch).ok()) return false;
  auto res = log_->append(batch, LeaderEpoch(0));
  if (!res.ok()) return false;
  // Acknowledged means written (C5): the batch leaves the user-space append
  // buffer for the file before the coordinator answers, as Produce does, so a
  // kill -9 right after the answer cannot lose it.
  if (log_->written_end_offset() >= res->last_offset + 1) return true;
  return log_->write_out_buffer().ok();
}

std::string OffsetsLogStore::replay_into(coordination::GroupCoordinator& coordinator, int64_t& records_read) const {
  records_read = 0;
  Offset offset = log_->log_start_offset();
  const Offset end = log_->log_end_offset();
  std::vector<uint8_t> buf, scratch;
  while (offset < end) {
    auto region = log_->read(offset, 1 << 20, end);
    if (!region.ok()) return region.status().to_string();
    if (region->empty()) break;
    buf.resize(static_cast<size_t>(region->length));
    ssize_t n = ::pread(region->fd(), buf.data(), buf.size(), region->position);
    if (n != static_cast<ssize_t>(buf.size())) return "short read of " + std::string(kOffsetsTopic);
    std::span<const uint8_t> rest(buf);
    while (rest.size() >= record::kBatchHeaderSize) {
      auto h = record::parse_batch_header(rest);
      if (h.error != record::BatchError::kOk || rest.size() < h.header.total_size()) break;
      auto batch = rest.first(h.header.total_size());
      if (!h.header.is_control()) {
        (void)record::for_each_record(
            batch,
            [&](const record::Record& rec) {
              if (rec.key) {
                std::optional<std::span<const uint8_t>> value;
                if (rec.value) value = *rec.value;
                coordinator.replay(*rec.key, value);
                ++records_read;
              }
              return true;
            },
            scratch);
      }
      rest = rest.subspan(h.header.total_size());
    }
    offset = Offset(region->last_offset + 1);
  }
  coordinator.finish_replay(storage::system_clock_ms());
  return {};
}

}  // namespace millrace::broker

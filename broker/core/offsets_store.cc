#include "broker/core/offsets_store.h"

#include <unistd.h>

#include "coordination/offsets_partition.h"
#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"
#include "storage/log.h"

namespace millrace::broker {

int32_t OffsetsLogStore::partition_for(const std::string& group_id) const {
  return partitions_.empty() ? 0 : coordination::offsets_partition_for(group_id, partition_count());
}

std::shared_ptr<storage::Log> OffsetsLogStore::log_for(const std::string& group_id) const {
  if (partitions_.empty()) return nullptr;
  return partitions_[static_cast<size_t>(partition_for(group_id))];
}

bool OffsetsLogStore::append(const std::string& group_id, const std::vector<coordination::StoredRecord>& records) {
  if (records.empty()) return true;
  auto log = log_for(group_id);
  if (!log) return false;
  record::BatchBuilder builder(record::BatchOptions{});
  int64_t now = storage::system_clock_ms();
  for (const auto& r : records) {
    std::optional<record::Bytes> value;
    if (r.value) value = record::Bytes(*r.value);
    builder.append(now, record::Bytes(r.key), value);
  }
  std::vector<uint8_t> batch;
  if (!builder.finish(batch).ok()) return false;
  auto res = log->append(batch, LeaderEpoch(0));
  if (!res.ok()) return false;
  // Acknowledged means written (C5): the batch leaves the user-space append
  // buffer for the file before the coordinator answers, as Produce does, so a
  // kill -9 right after the answer cannot lose it.
  if (log->written_end_offset() >= res->last_offset + 1) return true;
  return log->write_out_buffer().ok();
}

std::string OffsetsLogStore::replay_into(coordination::GroupCoordinator& coordinator, int64_t& records_read) const {
  records_read = 0;
  for (size_t p = 0; p < partitions_.size(); ++p) {
    if (!partitions_[p]) continue;
    if (auto err = replay_partition(*partitions_[p], coordinator, records_read); !err.empty())
      return "partition " + std::to_string(p) + ": " + err;
  }
  coordinator.finish_replay(storage::system_clock_ms());
  return {};
}

std::string OffsetsLogStore::replay_partition(const storage::Log& log, coordination::GroupCoordinator& coordinator,
                                              int64_t& records_read) const {
  Offset offset = log.log_start_offset();
  const Offset end = log.log_end_offset();
  std::vector<uint8_t> buf, scratch;
  while (offset < end) {
    auto region = log.read(offset, 1 << 20, end);
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
  return {};
}

}  // namespace millrace::broker

#include "broker/groups/offsets_store.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"
#include "storage/log.h"

namespace millrace::broker {

void OffsetsLogStore::append(int32_t partition, std::vector<coordination::StoredRecord> records,
                             std::function<void(bool)> done) {
  auto write = std::make_shared<InFlight>();
  write->done = std::move(done);
  {
    std::lock_guard lock(mu_);
    in_flight_[partition].push_back(write);
  }
  auto p = partitions_.get({kOffsetsTopic, partition});
  if (!p || p->is_offline() || records.empty()) return fail_later(partition, std::move(write));
  record::BatchBuilder builder(record::BatchOptions{});
  int64_t now = storage::system_clock_ms();
  for (const auto& r : records) {
    std::optional<record::Bytes> value;
    if (r.value) value = record::Bytes(*r.value);
    builder.append(now, record::Bytes(r.key), value);
  }
  std::vector<uint8_t> batch;
  if (!builder.finish(batch).ok()) return fail_later(partition, std::move(write));
  // A group write is acks=all in Kafka: stored once written out and, with
  // fsync before acks=all, synced; what the coordinator answers after it
  // survives a kill -9 (and a power loss under the sync).
  auto replicated = p->replicate(batch, -1, ex_);
  if (!replicated.appended.ok()) return fail_later(partition, std::move(write));
  boost::asio::co_spawn(
      ex_,
      [this, partition, write, acks = std::move(replicated.acks)]() -> boost::asio::awaitable<void> {
        auto st = co_await acks->wait();
        finish(partition, write, st.ok());
      },
      boost::asio::detached);
}

void OffsetsLogStore::fail_later(int32_t partition, std::shared_ptr<InFlight> write) {
  boost::asio::post(ex_, [this, partition, write = std::move(write)] { finish(partition, write, false); });
}

void OffsetsLogStore::finish(int32_t partition, const std::shared_ptr<InFlight>& write, bool ok) {
  std::vector<std::shared_ptr<InFlight>> completed;
  {
    std::lock_guard lock(mu_);
    write->stored = ok;
    auto& queue = in_flight_[partition];
    while (!queue.empty() && queue.front()->stored) {
      completed.push_back(std::move(queue.front()));
      queue.pop_front();
    }
  }
  for (auto& w : completed) w->done(*w->stored);
}

std::string OffsetsLogStore::load_into(coordination::GroupCoordinator& coordinator, int64_t& records_read,
                                       const std::function<bool(int32_t)>& serve) const {
  records_read = 0;
  for (int32_t p = 0; p < count_; ++p) {
    if (serve && !serve(p)) {
      coordinator.unload(p);
      continue;
    }
    if (auto err = load_partition(coordinator, p, records_read); !err.empty()) return err;
  }
  return {};
}

std::string OffsetsLogStore::load_partition(coordination::GroupCoordinator& coordinator, int32_t p,
                                            int64_t& records_read) const {
  auto part = partitions_.get({kOffsetsTopic, p});
  if (!part || part->is_offline()) {
    coordinator.unload(p);
    return {};
  }
  coordinator.begin_load(p);
  if (auto err = replay_partition(*part->log(), coordinator, records_read); !err.empty()) {
    coordinator.unload(p);
    return "partition " + std::to_string(p) + ": " + err;
  }
  coordinator.finish_load(p, storage::system_clock_ms());
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

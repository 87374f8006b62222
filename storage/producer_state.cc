#include "storage/producer_state.h"

#include <algorithm>
#include <limits>

#include "protocol/record/crc32c.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::storage {
namespace {

int32_t next_seq(int32_t seq) { return seq == std::numeric_limits<int32_t>::max() ? 0 : seq + 1; }

}  // namespace

int32_t last_sequence(int32_t first_seq, int32_t last_offset_delta) {
  if (first_seq < 0) return -1;
  return static_cast<int32_t>((static_cast<int64_t>(first_seq) + last_offset_delta) %
                              (static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1));
}

ProducerBatchInfo producer_info(const record::BatchHeader& h) {
  return {h.is_control() ? -1 : h.producer_id, h.producer_epoch, h.base_sequence,
          last_sequence(h.base_sequence, h.last_offset_delta)};
}

SequenceCheck ProducerStateManager::check(const ProducerBatchInfo& b) const {
  if (b.producer_id < 0) return {};
  const ProducerEntry* e = find(b.producer_id);
  return e ? check_entry(*e, b) : SequenceCheck{};
}

SequenceCheck ProducerStateManager::check_entry(const ProducerEntry& e, const ProducerBatchInfo& b) {
  SequenceCheck out;
  if (b.producer_id < 0 || e.epoch < 0) return out;
  if (b.epoch < e.epoch) {
    out.status = Status(Errc::kInvalidProducerEpoch, "producer " + std::to_string(b.producer_id) + " epoch " +
                                                         std::to_string(b.epoch) + " < " + std::to_string(e.epoch));
    return out;
  }
  if (b.epoch > e.epoch) {
    if (b.first_seq != 0)
      out.status = Status(Errc::kOutOfOrderSequence, "new epoch must start at sequence 0, got " + std::to_string(b.first_seq));
    return out;
  }
  for (const auto& pb : e.batches) {
    if (pb.first_seq == b.first_seq && pb.last_seq == b.last_seq) {
      out.duplicate = true;
      out.base_offset = pb.base_offset;
      out.last_offset = pb.last_offset;
      return out;
    }
  }
  if (!e.batches.empty() && b.first_seq != next_seq(e.batches.back().last_seq)) {
    out.status = Status(Errc::kOutOfOrderSequence, "producer " + std::to_string(b.producer_id) + " expected sequence " +
                                                       std::to_string(next_seq(e.batches.back().last_seq)) + ", got " +
                                                       std::to_string(b.first_seq));
  }
  return out;
}

void ProducerStateManager::update(const ProducerBatchInfo& b, int64_t base_offset, int64_t last_offset,
                                  int64_t max_timestamp, int64_t now_ms) {
  if (b.producer_id < 0) return;
  apply(producers_[b.producer_id], b, base_offset, last_offset, max_timestamp, now_ms);
}

void ProducerStateManager::apply(ProducerEntry& e, const ProducerBatchInfo& b, int64_t base_offset,
                                 int64_t last_offset, int64_t max_timestamp, int64_t now_ms) {
  e.last_timestamp = std::max(e.last_timestamp, now_ms);
  if (b.epoch != e.epoch) {
    e.epoch = b.epoch;
    e.batches.clear();
  }
  e.batches.push_back({b.first_seq, b.last_seq, base_offset, last_offset, max_timestamp});
  while (e.batches.size() > kProducerBatchesKept) e.batches.pop_front();
}

size_t ProducerStateManager::remove_expired(int64_t now_ms, int64_t expiration_ms) {
  return std::erase_if(producers_, [&](const auto& p) { return now_ms - p.second.last_timestamp >= expiration_ms; });
}

void ProducerStateManager::truncate_to(int64_t offset) {
  for (auto& [pid, e] : producers_)
    while (!e.batches.empty() && e.batches.back().last_offset >= offset) e.batches.pop_back();
}

std::vector<uint8_t> ProducerStateManager::encode_snapshot(int64_t snapshot_offset) const {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.uint8(kProducerSnapshotVersion);
  w.int64(snapshot_offset);
  w.uint32(static_cast<uint32_t>(producers_.size()));
  for (const auto& [pid, e] : producers_) {
    w.int64(pid);
    w.int16(e.epoch);
    w.int64(e.last_timestamp);
    w.uint8(static_cast<uint8_t>(e.batches.size()));
    for (const auto& b : e.batches) {
      w.int32(b.first_seq);
      w.int32(b.last_seq);
      w.int64(b.base_offset);
      w.int64(b.last_offset);
      w.int64(b.max_timestamp);
    }
  }
  w.uint32(record::crc32c(0, out.data(), out.size()));
  return out;
}

Result<std::pair<ProducerStateManager, int64_t>> ProducerStateManager::decode_snapshot(
    const std::vector<uint8_t>& bytes) {
  auto corrupt = [](const std::string& why) { return Status(Errc::kCorruptSegment, "producer snapshot: " + why); };
  if (bytes.size() < 1 + 8 + 4 + 4) return corrupt("short file");
  size_t body = bytes.size() - 4;
  wire::Reader crc_reader(std::span<const uint8_t>(bytes).subspan(body));
  if (record::crc32c(0, bytes.data(), body) != crc_reader.uint32()) return corrupt("checksum mismatch");
  wire::Reader r(std::span<const uint8_t>(bytes).first(body));
  uint8_t version = r.uint8();
  if (version != 1 && version != kProducerSnapshotVersion) return corrupt("unknown version " + std::to_string(version));
  int64_t snapshot_offset = r.int64();
  uint32_t count = r.uint32();
  ProducerStateManager m;
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    int64_t pid = r.int64();
    ProducerEntry e;
    e.epoch = r.int16();
    if (version >= 2) e.last_timestamp = r.int64();
    uint8_t n = r.uint8();
    if (n > kProducerBatchesKept) return corrupt("too many batches");
    for (uint8_t j = 0; j < n; ++j) {
      ProducerBatch b{r.int32(), r.int32(), r.int64(), r.int64(), r.int64()};
      e.batches.push_back(b);
      if (version == 1) e.last_timestamp = std::max(e.last_timestamp, b.max_timestamp);
    }
    m.producers_[pid] = std::move(e);
  }
  if (!r.ok()) return corrupt("truncated");
  if (!r.at_end()) return corrupt("trailing bytes");
  if (snapshot_offset < 0) return corrupt("negative offset");
  return std::make_pair(std::move(m), snapshot_offset);
}

}  // namespace millrace::storage

#include "client/fetched_records.h"

#include <algorithm>

#include "protocol/record/batch_header.h"
#include "protocol/record/record_reader.h"
#include "protocol/wire/reader.h"

namespace millrace::client {

namespace {

// Length of the complete batches at the start of `bytes`, and the offset after the
// last of them (`after` is left alone when there is none).
size_t complete_prefix(std::span<const uint8_t> bytes, int64_t& after) {
  size_t at = 0;
  while (bytes.size() - at >= 12) {
    wire::Reader r(bytes.subspan(at, 12));
    int64_t base = r.int64();
    int32_t len = r.int32();
    if (len < record::kMinBatchLength || static_cast<size_t>(len) > bytes.size() - at - 12) break;
    // last_offset_delta sits inside the header; a header shorter than that is
    // malformed and is caught by drain()'s validation.
    auto whole = bytes.subspan(at, 12 + static_cast<size_t>(len));
    wire::Reader d(whole.subspan(record::kLastOffsetDeltaOffset, 4));
    int64_t last = record::wrapping_add(base, d.int32());
    after = std::max(after, record::wrapping_add(last, 1));
    at += whole.size();
  }
  return at;
}

std::string where(const std::string& topic, int32_t partition, int64_t offset) {
  return topic + "-" + std::to_string(partition) + " at offset " + std::to_string(offset);
}

}  // namespace

FetchedRecords::FetchedRecords(std::shared_ptr<const ResponseFrame> frame, std::span<const uint8_t> records,
                               int64_t fetch_offset)
    : frame_(std::move(frame)), start_offset_(fetch_offset), position_(fetch_offset), next_fetch_offset_(fetch_offset) {
  batches_ = records.subspan(0, complete_prefix(records, next_fetch_offset_));
}

Status FetchedRecords::drain(const std::string& topic, int32_t partition, std::vector<ConsumerRecord>& out,
                             size_t max_records, std::vector<uint8_t>& scratch) {
  while (!batches_.empty() && out.size() < max_records) {
    auto hr = record::parse_batch_header(batches_);
    if (hr.error != record::BatchError::kOk)
      return Error{errc::kCorruptMessage, "record batch of " + where(topic, partition, position_) +
                                              " is unreadable: " + record::to_string(hr.error)};
    const auto& h = hr.header;
    auto batch = batches_.subspan(0, h.total_size());   // complete: checked at construction
    auto v = record::validate_batch(batch);
    if (v != record::BatchError::kOk)
      return Error{errc::kCorruptMessage, "record batch of " + where(topic, partition, h.base_offset) + " is " +
                                              record::to_string(v) + " (seek past it to skip it)"};
    if (!h.is_control() && h.last_offset() >= start_offset_) {
      record::RecordReader rr(batch, scratch);
      record::Record rec;
      while (rr.next(rec)) {
        int64_t off = record::record_offset(h, rec);
        if (off < start_offset_) continue;
        auto& cr = out.emplace_back();
        cr.topic = topic;
        cr.partition = partition;
        cr.offset = off;
        cr.timestamp_ms = record::record_timestamp(h, rec);
        if (rec.key) cr.key.emplace(record::as_string(*rec.key));
        if (rec.value) cr.value.emplace(record::as_string(*rec.value));
        if (!rec.headers.empty()) {
          cr.headers.reserve(rec.headers.size());
          for (auto& hh : rec.headers)
            cr.headers.push_back({std::string(hh.key), hh.value ? std::optional<std::string>(std::string(
                                                                      record::as_string(*hh.value)))
                                                                : std::nullopt});
        }
      }
      if (!rr.status().ok()) {
        // Drop what this batch produced: the batch is returned whole or not at all.
        while (!out.empty() && out.back().offset >= h.base_offset && out.back().partition == partition &&
               out.back().topic == topic)
          out.pop_back();
        return Error{errc::kCorruptMessage, "record batch of " + where(topic, partition, h.base_offset) +
                                                " is malformed: " + rr.status().detail};
      }
    }
    position_ = std::max(position_, record::wrapping_add(h.last_offset(), 1));
    batches_ = batches_.subspan(batch.size());
  }
  return Error::none();
}

}  // namespace millrace::client

// Produce (key 0): advertised v0-11, served v3-11 (record batch v2 only; v0-2
// are advertised for librdkafka's codec gate and answered UNSUPPORTED_VERSION).
// acks 0 (no response), 1 (after the append), -1 (after the append is
// fsynced: group commit through Log::flush_up_to, as Redpanda does, since a
// single node has no replicas to make it safe otherwise; log.flush.on.acks.all
// =false answers from the page cache, as Kafka does). Whatever is acknowledged
// is at least in the page cache first: the log's append buffer is written out
// before the response (so a kill -9 of the broker never loses an acknowledged
// record, as with Kafka); only acks=0 leaves it to the buffer's linger timer.
// Idempotence checks live in the log; transactional batches are refused until
// transactions exist.
#include <spdlog/spdlog.h>

#include "broker/handlers/await_flush.h"
#include "broker/handlers/errors.h"
#include "broker/handlers/handlers.h"
#include "protocol/record/batch_header.h"

namespace millrace::broker {

namespace {

struct BatchScan {
  int64_t records = 0;
  bool transactional = false;
  bool ok = true;
};

// Walks the batch headers (the log re-validates them, with CRCs).
BatchScan scan(std::span<const uint8_t> bytes) {
  BatchScan s;
  while (!bytes.empty()) {
    auto h = record::parse_batch_header(bytes);
    if (h.error != record::BatchError::kOk || bytes.size() < h.header.total_size()) {
      s.ok = false;
      return s;
    }
    s.records += h.header.record_count;
    s.transactional = s.transactional || h.header.is_transactional();
    bytes = bytes.subspan(h.header.total_size());
  }
  return s;
}

}  // namespace

Task<proto::ProduceResponse> handle(RequestContext& ctx, proto::ProduceRequest& req) {
  using E = proto::ErrorCode;
  auto& b = ctx.broker;
  proto::ProduceResponse resp;
  struct PendingFlush {
    std::shared_ptr<storage::Log> log;
    Offset up_to;
    proto::ProduceResponse::TopicProduceResponse::PartitionProduceResponse* out;
  };
  std::vector<PendingFlush> flushes;
  std::vector<PendingFlush> write_outs;  // acknowledged without fsync: page cache first
  const bool fsync_acks_all = b.config.boolean("log.flush.on.acks.all");
  bool appended = false;
  resp.responses.reserve(req.topic_data.size());

  for (auto& td : req.topic_data) {
    auto& tr = resp.responses.emplace_back();
    tr.name = td.name;
    tr.partition_responses.reserve(td.partition_data.size());
    for (auto& pd : td.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = pd.index;
      pr.base_offset = -1;
      auto fail = [&](E code, std::string message) {
        pr.error_code = ctx.note(code);
        pr.error_message = std::move(message);
      };
      if (ctx.api_version < 3) {
        fail(E::kUnsupportedVersion, "Produce v0-2 (message formats 0/1) are not served; use v3+");
        continue;
      }
      if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
        fail(E::kInvalidRequiredAcks, "acks must be 0, 1 or -1");
        continue;
      }
      if (req.transactional_id) {
        fail(E::kTransactionalIdAuthorizationFailed, "transactions are not supported by millrace yet");
        continue;
      }
      auto log = b.logs.get({td.name, pd.index});
      if (!log) {
        fail(E::kUnknownTopicOrPartition, "unknown topic or partition");
        continue;
      }
      if (pd.records.is_null || pd.records.bytes.empty()) {
        fail(E::kCorruptMessage, "no record batches");
        continue;
      }
      auto s = scan(pd.records.bytes);
      if (s.transactional) {
        fail(E::kTransactionalIdAuthorizationFailed, "transactional batches are not supported by millrace yet");
        continue;
      }
      size_t bytes = pd.records.bytes.size();
      auto res = log->append(pd.records.bytes, LeaderEpoch(0));
      if (!res.ok()) {
        pr.error_code = ctx.note(kafka_error(res.code()));
        pr.error_message = res.status().message();
        if (res.code() != storage::Errc::kOutOfOrderSequence)
          spdlog::info("event=produce_refused topic={} partition={} error={} detail=\"{}\"", td.name, pd.index,
                       proto::error_name(pr.error_code), res.status().message());
        continue;
      }
      pr.base_offset = res->base_offset.value();
      pr.log_append_time_ms = res->log_append_time_ms;
      pr.log_start_offset = res->log_start_offset.value();
      if (!res->duplicate) {
        appended = true;
        b.metrics.bytes_in(td.name, bytes, static_cast<uint64_t>(s.ok ? s.records : 0));
      }
      if (req.acks == -1 && fsync_acks_all)
        flushes.push_back({log, res->last_offset + 1, &pr});
      else if (req.acks != 0)
        write_outs.push_back({log, res->last_offset + 1, &pr});
    }
  }
  for (auto& w : write_outs) {
    if (w.log->written_end_offset() >= w.up_to) continue;
    auto st = w.log->write_out_buffer();
    if (!st.ok()) {
      w.out->error_code = ctx.note(E::kKafkaStorageError);
      w.out->error_message = st.message();
    }
  }
  if (appended) b.appends.notify();
  for (auto& f : flushes) {
    auto flush = await_flush(*f.log, f.up_to, ctx.executor);  // named: see join_group.cc
    auto st = co_await std::move(flush);
    if (!st.ok()) {
      f.out->error_code = ctx.note(E::kKafkaStorageError);
      f.out->error_message = st.message();
    }
  }
  if (req.acks == 0) ctx.no_response = true;
  co_return resp;
}

}  // namespace millrace::broker

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
//
// Each partition's append + write-out + fsync is one call,
// cluster::Partition::replicate (cluster/partition/partition.h), which also
// wakes the partition's parked fetches; a broker that does not lead the
// partition answers NOT_LEADER_OR_FOLLOWER.
//
// Two stages (kafka/staged.h), so that a connection can pipeline produces:
// stage 1 (this handler, in request order) validates and replicates each
// partition (its append, and the write-out or the start of its fsync); stage 2
// (finish_produce) only awaits the acks not yet satisfied and sets their
// errors. A request with nothing to fsync answers from stage 1. While stage 2
// waits, the connection runs the next produces' stage 1, whose appends join
// the same or the next fdatasync (group commit across one producer's
// in-flight requests).
#include <spdlog/spdlog.h>

#include "broker/handlers/errors.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/leader_hint.h"
#include "broker/kafka/staged.h"
#include "protocol/record/batch_header.h"
#include "protocol/record/record_reader.h"

namespace millrace::broker {

namespace {

struct BatchScan {
  int64_t records = 0;
  bool transactional = false;
  bool control = false;
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
    s.control = s.control || h.header.is_control();
    bytes = bytes.subspan(h.header.total_size());
  }
  return s;
}

// Kafka's LogValidator on a compacted topic: every record needs a key. Returns
// the indices (within the request's records) of the records without one; a
// batch that cannot be read is left to the log's own validation.
std::vector<int32_t> records_without_key(std::span<const uint8_t> bytes) {
  std::vector<int32_t> out;
  std::vector<uint8_t> scratch;
  int32_t index = 0;
  while (!bytes.empty()) {
    auto h = record::parse_batch_header(bytes);
    if (h.error != record::BatchError::kOk || bytes.size() < h.header.total_size()) break;
    auto batch = bytes.first(h.header.total_size());
    (void)record::for_each_record(
        batch,
        [&](const record::Record& rec) {
          if (!rec.key.has_value()) out.push_back(index);
          ++index;
          return true;
        },
        scratch);
    bytes = bytes.subspan(h.header.total_size());
  }
  return out;
}

// Kafka's RecordValidationException summary (ProduceResponse.error_message).
std::string record_errors_summary(const std::vector<proto::ProduceResponse::TopicProduceResponse::
                                                        PartitionProduceResponse::BatchIndexAndErrorMessage>& errs) {
  std::string m = "One or more records have been rejected due to ";
  m.append(std::to_string(errs.size())).append(" record errors in total, and only showing the first three errors at most: [");
  for (size_t i = 0; i < errs.size() && i < 3; ++i) {
    if (i) m.append(", ");
    m.append("RecordError(batchIndex=").append(std::to_string(errs[i].batch_index)).append(", message='");
    m.append(errs[i].batch_index_error_message.value_or("")).append("')");
  }
  m.append("]");
  return m;
}

// A partition's stage 2 (cluster::AckWait) and the response it decides
// (indices into the response: stage 2 owns the response by value).
struct AckAwait {
  std::shared_ptr<cluster::AckWait> acks;
  size_t topic;
  size_t partition;
};

Task<proto::ProduceResponse> finish_produce(proto::ProduceResponse resp, std::vector<AckAwait> waits,
                                            BrokerState& broker) {
  for (auto& w : waits) {
    auto wait = w.acks->wait();  // named: see join_group.cc
    storage::Status st = co_await std::move(wait);
    if (!st.ok()) {
      auto& pr = resp.responses[w.topic].partition_responses[w.partition];
      // A replicated partition whose leadership moved before the batch
      // committed: the outcome is unknown, the client retries (idempotence
      // keeps a retry from landing twice). Otherwise the disk failed.
      pr.error_code = proto::code(st.code() == storage::Errc::kClosed ? proto::ErrorCode::kNotLeaderOrFollower
                                                                      : proto::ErrorCode::kKafkaStorageError);
      broker.metrics.count_error(static_cast<int16_t>(proto::ApiKey::kProduce), proto::error_name(pr.error_code));
      pr.error_message = st.message();
    }
  }
  co_return resp;
}

}  // namespace

Task<Staged<proto::ProduceResponse>> handle(RequestContext& ctx, proto::ProduceRequest& req) {
  using E = proto::ErrorCode;
  auto& b = ctx.broker;
  proto::ProduceResponse resp;
  std::vector<AckAwait> waits;  // stage 2: the acks not yet satisfied
  resp.responses.reserve(req.topic_data.size());

  auto image = b.metadata.current();
  for (auto& td : req.topic_data) {
    auto& tr = resp.responses.emplace_back();
    tr.name = td.name;
    tr.partition_responses.reserve(td.partition_data.size());
    const bool may_write = topic_allowed(ctx, *image, acl::AclOperation::kWrite, td.name);
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
      if (!may_write) {
        fail(E::kTopicAuthorizationFailed, "Not authorized to write to topic " + td.name);
        continue;
      }
      if (req.transactional_id) {
        fail(E::kTransactionalIdAuthorizationFailed, "transactions are not supported by millrace yet");
        continue;
      }
      auto partition = b.partitions.get({td.name, pd.index});
      if (!partition) {
        fail(E::kUnknownTopicOrPartition, "unknown topic or partition");
        continue;
      }
      if (!partition->is_leader(b.partitions.self())) {
        fail(E::kNotLeaderOrFollower, "this broker is not the partition's leader");
        if (ctx.api_version >= 10) {
          const auto f = partition->leadership();
          if (auto h = leader_hint(b.metadata.current().get(), td.name, pd.index, b.partitions.self(),
                                   {f.leader, f.leader_epoch.value()}, ctx.conn.listener)) {
            pr.current_leader.leader_id = h->id;
            pr.current_leader.leader_epoch = h->epoch;
            add_endpoint(resp.node_endpoints, *h);
          }
        }
        continue;
      }
      if (pd.records.is_null || pd.records.bytes.empty()) {
        fail(E::kCorruptMessage, "no record batches");
        continue;
      }
      auto s = scan(pd.records.bytes);
      // Control batches are the broker's own (transaction markers, Raft's
      // LeaderChange, Voters and LogStart entries): one from a client would be
      // taken for them (Kafka's LogValidator refuses them too).
      if (s.control) {
        fail(E::kInvalidRecord, "clients may not produce control batches");
        continue;
      }
      if (s.transactional) {
        fail(E::kTransactionalIdAuthorizationFailed, "transactional batches are not supported by millrace yet");
        continue;
      }
      if (partition->log()->compacted()) {
        auto keyless = records_without_key(pd.records.bytes);
        if (!keyless.empty()) {
          std::string why = "Compacted topic cannot accept message without key in topic partition ";
          why.append(td.name).append("-").append(std::to_string(pd.index));
          for (int32_t i : keyless) pr.record_errors.push_back({.batch_index = i, .batch_index_error_message = why});
          fail(E::kInvalidRecord, record_errors_summary(pr.record_errors));
          continue;
        }
      }
      size_t bytes = pd.records.bytes.size();
      auto replicated = partition->replicate(pd.records.bytes, req.acks, ctx.executor);
      const auto& res = replicated.appended;
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
      if (!res->duplicate) b.metrics.bytes_in(td.name, pd.index, bytes, static_cast<uint64_t>(s.ok ? s.records : 0));
      if (!replicated.acks->ready()) {
        waits.push_back({std::move(replicated.acks), resp.responses.size() - 1, tr.partition_responses.size() - 1});
      } else if (const auto& st = replicated.acks->status(); !st.ok()) {
        fail(st.code() == storage::Errc::kClosed ? E::kNotLeaderOrFollower : E::kKafkaStorageError, st.message());
      }
    }
  }
  if (req.acks == 0) ctx.no_response = true;
  Staged<proto::ProduceResponse> out;
  if (waits.empty()) {
    out.body = std::move(resp);
    co_return out;
  }
  out.rest.emplace(finish_produce(std::move(resp), std::move(waits), b));
  co_return out;
}

}  // namespace millrace::broker

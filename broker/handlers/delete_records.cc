// DeleteRecords (key 21), v0-2: moves each partition's log start offset
// (offset -1 = the high watermark), on the partition's leader only
// (NOT_LEADER_OR_FOLLOWER elsewhere, as Kafka).
//
// A replicated partition (a Raft group) moves it through its Replicator: a
// LogStart entry every replica applies, answered once committed, so no later
// leader serves a deleted offset (Kafka's DelayedDeleteRecords waits for the
// in-sync replicas' low watermark the same way). Every partition of the
// request waits at once, up to timeout_ms: REQUEST_TIMED_OUT after that (the
// entry may still commit later: its outcome is unknown, as in Kafka).
// Each topic needs DELETE on it, else its partitions get
// TOPIC_AUTHORIZATION_FAILED (before their existence is looked at).
#include <boost/asio/steady_timer.hpp>

#include "broker/handlers/authorize.h"
#include "broker/handlers/errors.h"
#include "broker/handlers/handlers.h"
#include "cluster/partition/replicator.h"
#include "cluster/partition/served_partition.h"

namespace millrace::broker {

namespace {

struct Waiting {
  proto::DeleteRecordsResponse::DeleteRecordsTopicResult::DeleteRecordsPartitionResult* result;
  std::shared_ptr<cluster::Partition> partition;
  std::shared_ptr<cluster::AckWait> committed;
  Offset target;
  std::shared_ptr<bool> timed_out;
};

}  // namespace

Task<proto::DeleteRecordsResponse> handle(RequestContext& ctx, proto::DeleteRecordsRequest& req) {
  proto::DeleteRecordsResponse resp;
  std::vector<Waiting> waiting;
  resp.topics.reserve(req.topics.size());  // `waiting` points into it
  auto image = ctx.broker.metadata.current();
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    rt.partitions.reserve(t.partitions.size());
    const bool may_delete = topic_allowed(ctx, *image, acl::AclOperation::kDelete, t.name);
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.low_watermark = -1;
      if (!may_delete) {
        rp.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      auto& partitions = ctx.broker.partitions;
      auto served = cluster::served_partition(partitions, t.name, p.partition_index);  // offline: KAFKA_STORAGE_ERROR
      if (served.error_code != 0) {
        rp.error_code = ctx.note(served.error_code);
        continue;
      }
      if (auto e = served.partition->check_leader(partitions.self()); e != proto::ErrorCode::kNone) {
        rp.error_code = ctx.note(e);
        continue;
      }
      const auto& log = served.partition->log();
      Offset hw = served.partition->high_watermark();
      Offset target = p.offset == -1 ? hw : Offset(p.offset);
      if (target > hw || p.offset < -1) {
        rp.error_code = ctx.note(proto::ErrorCode::kOffsetOutOfRange);
        continue;
      }
      if (auto replicator = served.partition->replicator()) {
        auto move = replicator->move_log_start(target, ctx.executor);
        if (!move.proposed.ok()) {
          rp.error_code = ctx.note(kafka_error(move.proposed.code()));
          continue;
        }
        waiting.push_back({&rp, served.partition, std::move(move.committed), target, std::make_shared<bool>(false)});
        continue;
      }
      auto r = log->delete_records_before(target);
      if (!r.ok()) {
        rp.error_code = ctx.note(kafka_error(r.code()));
        continue;
      }
      rp.low_watermark = r.value().value();
    }
  }
  if (waiting.empty()) co_return resp;
  // One timer for the request: what has not committed by then times out.
  auto timer = std::make_shared<boost::asio::steady_timer>(ctx.executor);
  timer->expires_after(std::chrono::milliseconds(std::max(req.timeout_ms, 0)));
  timer->async_wait([waiting](boost::system::error_code ec) {
    if (ec) return;
    for (const auto& w : waiting) {
      if (w.committed->ready()) continue;
      *w.timed_out = true;
      cluster::AckWait::complete(w.committed, storage::Status(storage::Errc::kClosed, "timed out"));
    }
  });
  for (auto& w : waiting) {
    storage::Status st = co_await w.committed->wait();
    if (st.ok()) {
      // Every replica holding the entry keeps its start at or above the
      // target; the leader's own start is the low watermark Kafka reports.
      w.result->low_watermark = std::max(w.target, w.partition->log()->log_start_offset()).value();
    } else {
      w.result->error_code =
          ctx.note(*w.timed_out ? proto::code(proto::ErrorCode::kRequestTimedOut) : kafka_error(st.code()));
    }
  }
  timer->cancel();
  co_return resp;
}

}  // namespace millrace::broker

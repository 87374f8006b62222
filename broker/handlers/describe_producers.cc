// DescribeProducers (key 61), v0: the idempotent producers a partition's log
// holds state for (kafka-transactions.sh describe-producers), from whichever
// replica is asked, as Kafka's Partition.activeProducerState answers (its admin
// client asks the leader). READ on each topic, else its partitions get
// TOPIC_AUTHORIZATION_FAILED. Millrace has no transactions, so a coordinator
// epoch and a transaction start offset are always -1.
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "cluster/partition/served_partition.h"

namespace millrace::broker {

Task<proto::DescribeProducersResponse> handle(RequestContext& ctx, proto::DescribeProducersRequest& req) {
  proto::DescribeProducersResponse resp;
  auto image = ctx.broker.metadata.current();
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    const bool may_read = topic_allowed(ctx, *image, acl::AclOperation::kRead, t.name);
    for (int32_t index : t.partition_indexes) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = index;
      if (!may_read) {
        rp.error_code = ctx.note(proto::ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      auto served = cluster::served_partition(ctx.broker.partitions, t.name, index);
      if (served.error_code != 0) {
        // Not held here but known to the cluster: ask its leader (Kafka's answer).
        const bool elsewhere = !served.partition && image->partition(t.name, index) != nullptr &&
                               served.error_code == proto::code(proto::ErrorCode::kUnknownTopicOrPartition);
        rp.error_code = elsewhere ? ctx.note(proto::ErrorCode::kNotLeaderOrFollower) : ctx.note(served.error_code);
        continue;
      }
      for (const auto& [id, entry] : served.partition->log()->producers()) {
        auto& s = rp.active_producers.emplace_back();
        s.producer_id = id;
        s.producer_epoch = entry.epoch;
        s.last_sequence = entry.batches.empty() ? -1 : entry.batches.back().last_seq;
        s.last_timestamp = entry.batches.empty() ? entry.last_timestamp : entry.batches.back().max_timestamp;
        s.coordinator_epoch = -1;
        s.current_txn_start_offset = -1;
      }
    }
  }
  co_return resp;
}

}  // namespace millrace::broker

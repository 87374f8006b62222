// Fetch (key 1), v4-17. Long poll: when fewer than min_bytes are ready the
// request parks on its partitions' high-watermark waiters
// (cluster/partition/hw_waiters.h) until data arrives or max_wait_ms passes.
// A partition this broker does not lead answers NOT_LEADER_OR_FOLLOWER; a
// current_leader_epoch (v9+) other than the partition's, FENCED_LEADER_EPOCH
// or UNKNOWN_LEADER_EPOCH (Kafka's checkLeaderEpoch). Record bytes are not
// copied: each partition's FileRegion becomes a splice the connection sends
// with sendfile().
//
// Follower reads (KIP-392): a consumer's Fetch v11+ (replica id -1) may be
// served by a follower too, up to the follower's own high watermark
// (Partition::check_replica, read_for_consumer); replica fetches and older
// versions are the leader's only, as in Kafka. With replica.selector.class
// the rack-aware selector, the leader answers a consumer naming a rack it is
// not in with preferred_read_replica = an in-sync replica of that rack
// (cluster/replication/read_replica.h) and no records, at once.
//
// Fetch sessions (v7+, KIP-227) are kept by the FetchSessionCache
// (broker/kafka/fetch_session_cache.h, which tables the session id / epoch
// cases): the cache turns the request into a plan (which partitions to read,
// in which order), this handler reads them, and the cache then says which of
// them an incremental response must carry. v13+ names topics by id: an id
// the broker does not know is answered UNKNOWN_TOPIC_ID for its partitions.
#include <chrono>
#include <map>

#include "broker/handlers/errors.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/leader_hint.h"
#include "broker/handlers/topic_metadata.h"
#include "cluster/replication/read_replica.h"

namespace millrace::broker {

namespace {

using PartitionData = proto::FetchResponse::FetchableTopicResponse::PartitionData;

struct Read {
  PartitionData data;
  PartitionResult result;
  std::string topic;  // resolved name ("" for an unknown topic id)
  int64_t records = 0;
  bool follower = false;  // served by this broker as a follower
};

struct Built {
  std::vector<Read> reads;  // one per plan partition, same order
  int64_t bytes = 0;
  bool error = false;
  bool redirected = false;  // a partition names a preferred read replica: answer at once (Kafka)
  std::vector<std::shared_ptr<const void>> keep_alive;
  std::vector<LeaderHint> hints;  // KIP-951: leaders named in partitions answered NOT_LEADER / FENCED
};

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Topic names of the ids a v13+ request uses (and its session's), looked up once per request.
class TopicNames {
 public:
  explicit TopicNames(BrokerState& b) : b_(b) {}
  // The partition's topic name, or "" when its id is unknown.
  const std::string& name(const FetchKey& k) {
    if (!k.topic.empty()) return k.topic;
    auto it = by_id_.find(k.topic_id);
    if (it == by_id_.end()) {
      proto::Uuid id;
      id.bytes = k.topic_id;
      it = by_id_.emplace(k.topic_id, topic_name_by_id(b_, id).value_or(std::string())).first;
    }
    return it->second;
  }

 private:
  BrokerState& b_;
  std::map<TopicId, std::string> by_id_;
};

// The plan's partitions (null: unknown), looked up once per pass.
std::vector<std::shared_ptr<cluster::Partition>> lookup(BrokerState& b, const std::vector<FetchTarget>& targets,
                                                        TopicNames& names) {
  std::vector<std::shared_ptr<cluster::Partition>> out;
  out.reserve(targets.size());
  for (const auto& t : targets) {
    const auto& topic = names.name(t.key);
    out.push_back(topic.empty() ? nullptr : b.partitions.get({topic, t.key.partition}));
  }
  return out;
}

// The rack of each broker that may serve reads (registered, unfenced, not in
// controlled shutdown), for choose_read_replica.
std::map<int32_t, std::string> serving_racks(const cluster::MetadataImage& image) {
  std::map<int32_t, std::string> out;
  for (const auto& br : image.brokers())
    if (!br.fenced && !br.in_controlled_shutdown) out.emplace(br.id, br.rack.value_or(std::string()));
  return out;
}

// A consumer's fetch (not a replica's): the one a follower may serve (v11+).
bool from_consumer(const RequestContext& ctx, const proto::FetchRequest& req) {
  return (ctx.api_version >= 15 ? req.replica_state.replica_id : req.replica_id) < 0;
}

Built build(RequestContext& ctx, const proto::FetchRequest& req, const std::vector<FetchTarget>& targets,
            const std::vector<std::shared_ptr<cluster::Partition>>& partitions, TopicNames& names) {
  Built r;
  auto& b = ctx.broker;
  const int32_t self = b.partitions.self();
  int64_t budget = req.max_bytes > 0 ? req.max_bytes : INT32_MAX;
  // Kafka's fetchOnlyFromLeader is false only for a consumer sending client
  // metadata (v11+).
  const bool follower_may_serve = ctx.api_version >= 11 && from_consumer(ctx, req);
  const bool select = b.rack_aware_reads && follower_may_serve && !req.rack_id.empty();
  std::optional<std::map<int32_t, std::string>> racks;  // looked up once, when a partition needs it
  // A consumer needs READ on each topic (a follower's fetch goes by Raft, not here).
  const bool consumer = from_consumer(ctx, req);
  std::map<std::string, bool, std::less<>> may_read;
  std::shared_ptr<const cluster::MetadataImage> image;
  r.reads.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    auto& rd = r.reads.emplace_back();
    auto& pd = rd.data;
    pd.partition_index = t.key.partition;
    pd.records.is_null = false;
    pd.aborted_transactions = std::nullopt;
    rd.topic = names.name(t.key);
    if (consumer && ctx.broker.authz && ctx.broker.authz->enabled() && !rd.topic.empty()) {
      auto known = may_read.find(rd.topic);
      if (known == may_read.end()) {
        if (!image) image = b.metadata.current();
        known = may_read.emplace(rd.topic, topic_allowed(ctx, *image, acl::AclOperation::kRead, rd.topic)).first;
      }
      if (!known->second) {
        pd.error_code = proto::code(proto::ErrorCode::kTopicAuthorizationFailed);
        pd.high_watermark = -1;
        rd.result = {pd.error_code, -1, -1, false};
        r.error = true;
        continue;
      }
    }
    const auto& partition = partitions[i];
    const int32_t epoch = t.params.current_leader_epoch;
    auto leader = !partition           ? proto::ErrorCode::kNone
                  : follower_may_serve ? partition->check_replica(self, epoch)
                                       : partition->check_leader(self, epoch);
    if (!partition || leader != proto::ErrorCode::kNone) {
      pd.error_code = proto::code(partition ? leader
                                  : rd.topic.empty() ? proto::ErrorCode::kUnknownTopicId
                                                     : proto::ErrorCode::kUnknownTopicOrPartition);
      if (ctx.api_version >= 12 &&
          (leader == proto::ErrorCode::kNotLeaderOrFollower || leader == proto::ErrorCode::kFencedLeaderEpoch)) {
        const auto f = partition->leadership();
        if (auto h = leader_hint(b.metadata.current().get(), rd.topic, t.key.partition, self,
                                 {f.leader, f.leader_epoch.value()}, ctx.conn.listener)) {
          pd.current_leader.leader_id = h->id;
          pd.current_leader.leader_epoch = h->epoch;
          r.hints.push_back(std::move(*h));
        }
      }
      pd.high_watermark = -1;
      rd.result = {pd.error_code, -1, -1, false};
      r.error = true;
      continue;
    }
    const auto& log = partition->log();
    const auto facts = partition->leadership();
    rd.follower = facts.leader != self;
    if (select && !rd.follower) {
      if (!racks) racks = serving_racks(*b.metadata.current());
      const int32_t preferred = cluster::choose_read_replica(req.rack_id, self, facts.replicas, facts.isr, *racks);
      if (preferred >= 0) {
        // Kafka answers with the offsets and no records: the consumer fetches
        // from `preferred` next.
        const Offset hw = partition->consumer_high_watermark(partition->high_watermark());
        pd.high_watermark = hw.value();
        pd.last_stable_offset = hw.value();
        pd.log_start_offset = log->log_start_offset().value();
        pd.preferred_read_replica = preferred;
        rd.result = {0, pd.high_watermark, pd.log_start_offset, false, true};
        r.redirected = true;
        continue;
      }
    }
    if (budget <= 0 && r.bytes > 0) {
      const Offset hw = partition->consumer_high_watermark(partition->high_watermark());
      pd.high_watermark = pd.last_stable_offset = hw.value();
      pd.log_start_offset = log->log_start_offset().value();
      rd.result = {0, pd.high_watermark, pd.log_start_offset, false};
      continue;
    }
    int32_t max = static_cast<int32_t>(std::min<int64_t>(t.params.max_bytes, std::max<int64_t>(budget, 1)));
    // Below the high watermark (a follower's: the commit it learned), Raft's
    // own entries stepped over (read_for_consumer).
    auto read = partition->read_for_consumer(Offset(t.params.fetch_offset), max);
    // No transactions yet: the last stable offset is the high watermark.
    pd.high_watermark = read.high_watermark.value();
    pd.last_stable_offset = read.high_watermark.value();
    pd.log_start_offset = log->log_start_offset().value();
    rd.result = {0, pd.high_watermark, pd.log_start_offset, false};
    auto& region = read.region;
    if (!region.ok()) {
      pd.error_code = kafka_error(region.code());
      rd.result.error = pd.error_code;
      r.error = true;
      continue;
    }
    if (region->empty()) continue;
    // Kafka's minOneMessage: only the response's first batch may exceed the
    // limits (so a batch larger than them is still delivered); a later
    // partition whose first batch does not fit gets no records this time.
    if (r.bytes > 0 && region->length > std::min<int64_t>(max, budget)) continue;
    pd.records.file = proto::FileRegion{region->fd(), region->position, static_cast<int32_t>(region->length)};
    rd.result.has_records = true;
    r.keep_alive.push_back(region->file);
    r.bytes += region->length;
    budget -= region->length;
    rd.records = region->last_offset - std::max(region->first_offset, t.params.fetch_offset) + 1;
  }
  return r;
}

SessionRequest session_request(const proto::FetchRequest& req, bool ids) {
  SessionRequest s;
  s.session_id = req.session_id;
  s.epoch = req.session_epoch;
  s.uses_topic_ids = ids;
  auto key = [ids](const std::string& topic, const proto::Uuid& id, int32_t partition) {
    return ids ? FetchKey{id.bytes, "", partition} : FetchKey{{}, topic, partition};
  };
  for (const auto& ft : req.topics)
    for (const auto& fp : ft.partitions)
      s.partitions.push_back({key(ft.topic, ft.topic_id, fp.partition),
                              FetchParams{fp.fetch_offset, fp.partition_max_bytes, fp.current_leader_epoch,
                                          fp.log_start_offset}});
  for (const auto& f : req.forgotten_topics_data)
    for (int32_t p : f.partitions) s.forgotten.push_back(key(f.topic, f.topic_id, p));
  return s;
}

int16_t session_error_code(SessionError e) {
  switch (e) {
    case SessionError::kNone: return 0;
    case SessionError::kIdNotFound: return proto::code(proto::ErrorCode::kFetchSessionIdNotFound);
    case SessionError::kInvalidEpoch: return proto::code(proto::ErrorCode::kInvalidFetchSessionEpoch);
    case SessionError::kTopicIdError: return proto::code(proto::ErrorCode::kFetchSessionTopicIdError);
  }
  return proto::code(proto::ErrorCode::kUnknownServerError);
}

// Groups consecutive partitions of one topic under one topic entry, as Kafka does.
void append(proto::FetchResponse& resp, const FetchKey& key, const std::string& topic, PartitionData&& pd) {
  if (resp.responses.empty() || resp.responses.back().topic_id.bytes != key.topic_id ||
      resp.responses.back().topic != topic) {
    auto& rt = resp.responses.emplace_back();
    rt.topic = topic;
    rt.topic_id.bytes = key.topic_id;
  }
  resp.responses.back().partitions.push_back(std::move(pd));
}

}  // namespace

Task<proto::FetchResponse> handle(RequestContext& ctx, proto::FetchRequest& req) {
  auto& b = ctx.broker;
  const bool ids = ctx.api_version >= 13;
  // Before v7 there are no sessions: the defaults (0, -1) mean sessionless.
  if (ctx.api_version < 7) {
    req.session_id = 0;
    req.session_epoch = kFinalEpoch;
  }
  FetchPlan plan = b.fetch_sessions.plan(session_request(req, ids), steady_ms());
  if (plan.mode == FetchMode::kError) {
    proto::FetchResponse resp;
    resp.error_code = ctx.note(session_error_code(plan.error));
    co_return resp;
  }
  TopicNames names(b);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(req.max_wait_ms, 0));
  for (;;) {
    // The partitions a parked Fetch waits for (C18: only their appends wake
    // it). Looked up each pass: a partition replaced meanwhile (topic
    // re-created) wakes its old waiters, and the next pass finds the new one.
    auto partitions = lookup(b, plan.partitions, names);
    std::vector<cluster::HwWaiters*> watched;
    watched.reserve(partitions.size());
    for (const auto& p : partitions)
      if (p) watched.push_back(&p->hw_waiters());
    std::vector<uint64_t> seen = cluster::hw_versions(watched);
    Built r = build(ctx, req, plan.partitions, partitions, names);
    if (r.bytes >= req.min_bytes || r.error || r.redirected || std::chrono::steady_clock::now() >= deadline) {
      std::vector<PartitionResult> results;
      results.reserve(r.reads.size());
      for (const auto& rd : r.reads) results.push_back(rd.result);
      std::vector<bool> include(r.reads.size(), true);
      proto::FetchResponse resp;
      if (plan.mode == FetchMode::kFull) {
        resp.session_id = b.fetch_sessions.create(ids, plan.partitions, results, steady_ms());
      } else if (plan.mode == FetchMode::kIncremental) {
        auto err = b.fetch_sessions.finish_incremental(plan, results, include);
        if (err != SessionError::kNone) {
          resp.error_code = ctx.note(session_error_code(err));
          co_return resp;
        }
        resp.session_id = plan.session_id;
      }
      for (size_t i = 0; i < r.reads.size(); ++i) {
        if (!include[i]) continue;
        auto& rd = r.reads[i];
        ctx.note(rd.data.error_code);
        if (rd.data.records.file) {
          b.metrics.bytes_out(rd.topic, rd.data.partition_index, static_cast<uint64_t>(rd.data.records.file->length),
                              static_cast<uint64_t>(std::max<int64_t>(rd.records, 0)));
          if (rd.follower) b.metrics.fetch_follower_reads().Increment();
        }
        if (rd.data.preferred_read_replica >= 0) b.metrics.fetch_preferred_read_replica().Increment();
        append(resp, plan.partitions[i].key, ids ? std::string() : plan.partitions[i].key.topic, std::move(rd.data));
      }
      if (ctx.api_version >= 16)
        for (const auto& h : r.hints) add_endpoint(resp.node_endpoints, h);
      ctx.keep_alive = std::move(r.keep_alive);
      co_return resp;
    }
    b.metrics.fetch_waiting().Increment();
    co_await cluster::wait_for_hw(std::move(watched), std::move(seen), deadline);
    b.metrics.fetch_waiting().Decrement();
  }
}

}  // namespace millrace::broker

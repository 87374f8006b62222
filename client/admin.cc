#include "client/admin.h"

#include <algorithm>

#include "client/consumer_protocol.h"
#include "client/group_by_topic.h"
#include "client/list_offsets.h"

namespace millrace::client {

namespace {

Error topic_error(int16_t code, const std::optional<std::string>& msg, const std::string& topic) {
  if (code == 0) return Error::none();
  std::string m = msg && !msg->empty() ? *msg : std::string(error_code_name(code)) + " for topic '" + topic + "'";
  return Error{code, m};
}

constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;

TopicDescription to_description(const proto::MetadataResponse::MetadataResponseTopic& t) {
  TopicDescription d;
  d.name = t.name.value_or("");
  d.internal = t.is_internal;
  d.topic_id = topic_id_string(t.topic_id);
  for (auto& p : t.partitions)
    d.partitions.push_back(PartitionInfo{p.partition_index, p.leader_id, p.leader_epoch, p.error_code, p.replica_nodes,
                                         p.isr_nodes, p.offline_replicas});
  std::sort(d.partitions.begin(), d.partitions.end(), [](auto& a, auto& b) { return a.partition < b.partition; });
  return d;
}

// One Metadata request for these topics (all when nullopt), never auto-creating.
asio::awaitable<Result<proto::MetadataResponse>> topic_metadata(Cluster& c,
                                                                std::optional<std::vector<std::string>> names) {
  proto::MetadataRequest req;
  if (names) {
    req.topics.emplace();
    for (auto& n : *names) {
      proto::MetadataRequest::MetadataRequestTopic mt;
      mt.name = n;
      req.topics->push_back(std::move(mt));
    }
  } else {
    req.topics.reset();
  }
  req.allow_auto_topic_creation = false;
  co_return co_await c.call(kAnyNode, req);
}

}  // namespace

std::string topic_id_string(const proto::Uuid& id) {
  if (id.is_zero()) return "";
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  const auto& b = id.bytes;
  for (size_t i = 0; i < b.size(); i += 3) {
    uint32_t n = uint32_t{b[i]} << 16;
    size_t left = b.size() - i;
    if (left > 1) n |= uint32_t{b[i + 1]} << 8;
    if (left > 2) n |= b[i + 2];
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    if (left > 1) out += kAlphabet[(n >> 6) & 63];
    if (left > 2) out += kAlphabet[n & 63];
  }
  return out;  // 16 bytes -> 22 characters, no padding
}

Admin::Admin(ClientConfig cfg) : cluster_(std::make_unique<Cluster>(std::move(cfg))) {}
Admin::~Admin() = default;

Result<std::vector<std::string>> Admin::list_topics(bool include_internal) {
  return cluster_->run([&]() -> asio::awaitable<Result<std::vector<std::string>>> {
    auto md = co_await cluster_->refresh_metadata({}, true);
    if (!md.ok()) co_return md.error();
    std::vector<std::string> out;
    for (auto& [name, t] : md->topics)
      if (include_internal || !t.internal) out.push_back(name);
    co_return out;
  }());
}

Status Admin::create_topic(const NewTopic& topic, bool validate_only, std::string* topic_id) {
  return cluster_->run([&]() -> asio::awaitable<Status> {
    proto::CreateTopicsRequest req;
    proto::CreateTopicsRequest::CreatableTopic t;
    t.name = topic.name;
    t.num_partitions = topic.partitions;
    t.replication_factor = topic.replication_factor;
    for (auto& [k, v] : topic.configs) {
      proto::CreateTopicsRequest::CreatableTopic::CreatableTopicConfig c;
      c.name = k;
      c.value = v;
      t.configs.push_back(c);
    }
    req.topics.push_back(std::move(t));
    req.timeout_ms = static_cast<int32_t>(cluster_->config().request_timeout.count());
    req.validate_only = validate_only;
    auto resp = co_await cluster_->call(kAnyNode, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& r : resp->topics) {
      if (r.name != topic.name) continue;
      if (topic_id && r.error_code == 0) *topic_id = topic_id_string(r.topic_id);
      co_return topic_error(r.error_code, r.error_message, topic.name);
    }
    co_return Error{errc::kUnknownServerError, "CreateTopics response did not mention '" + topic.name + "'"};
  }());
}

Status Admin::delete_topic(const std::string& name) {
  return cluster_->run([&]() -> asio::awaitable<Status> {
    proto::DeleteTopicsRequest req;
    req.topic_names.push_back(name);
    req.timeout_ms = static_cast<int32_t>(cluster_->config().request_timeout.count());
    auto resp = co_await cluster_->call(kAnyNode, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& r : resp->responses)
      if (r.name.value_or("") == name) co_return topic_error(r.error_code, r.error_message, name);
    co_return Error{errc::kUnknownServerError, "DeleteTopics response did not mention '" + name + "'"};
  }());
}

Result<TopicDescription> Admin::describe_topic(const std::string& name) {
  return cluster_->run([&]() -> asio::awaitable<Result<TopicDescription>> {
    auto md = co_await topic_metadata(*cluster_, std::vector<std::string>(1, name));
    if (!md.ok()) co_return md.error();
    for (auto& t : md->topics) {
      if (t.name.value_or("") != name) continue;
      if (t.error_code != 0) co_return Error{t.error_code, "topic '" + name + "': " + error_code_name(t.error_code)};
      co_return to_description(t);
    }
    co_return Error{errc::kUnknownTopicOrPartition, "topic '" + name + "' does not exist"};
  }());
}

Result<std::vector<TopicDescription>> Admin::describe_all_topics(bool include_internal) {
  return cluster_->run([&]() -> asio::awaitable<Result<std::vector<TopicDescription>>> {
    auto md = co_await topic_metadata(*cluster_, std::nullopt);
    if (!md.ok()) co_return md.error();
    std::vector<TopicDescription> out;
    for (auto& t : md->topics)
      if (t.error_code == 0 && (include_internal || !t.is_internal)) out.push_back(to_description(t));
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    co_return out;
  }());
}

Status Admin::create_partitions(const std::string& topic, int32_t total_partitions) {
  return cluster_->run([&]() -> asio::awaitable<Status> {
    proto::CreatePartitionsRequest req;
    proto::CreatePartitionsRequest::CreatePartitionsTopic t;
    t.name = topic;
    t.count = total_partitions;
    t.assignments.reset();
    req.topics.push_back(t);
    req.timeout_ms = static_cast<int32_t>(cluster_->config().request_timeout.count());
    auto resp = co_await cluster_->call(kAnyNode, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& r : resp->results)
      if (r.name == topic) co_return topic_error(r.error_code, r.error_message, topic);
    co_return Error{errc::kUnknownServerError, "CreatePartitions response did not mention '" + topic + "'"};
  }());
}

namespace {
asio::awaitable<Result<std::vector<ConfigEntry>>> describe_configs(Cluster& c, int8_t type, std::string name,
                                                                   int32_t node) {
  proto::DescribeConfigsRequest req;
  proto::DescribeConfigsRequest::DescribeConfigsResource res;
  res.resource_type = type;
  res.resource_name = name;
  res.configuration_keys.reset();
  req.resources.push_back(res);
  auto resp = co_await c.call(node, req);
  if (!resp.ok()) co_return resp.error();
  if (resp->results.empty()) co_return Error{errc::kUnknownServerError, "empty DescribeConfigs response"};
  auto& r = resp->results[0];
  if (r.error_code != 0) co_return topic_error(r.error_code, r.error_message, name);
  std::vector<ConfigEntry> out;
  for (auto& e : r.configs) {
    ConfigEntry ce;
    ce.name = e.name;
    ce.value = e.value;
    ce.read_only = e.read_only;
    ce.sensitive = e.is_sensitive;
    ce.source = e.config_source;
    out.push_back(ce);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  co_return out;
}
}  // namespace

Result<std::vector<ConfigEntry>> Admin::describe_topic_configs(const std::string& topic) {
  return cluster_->run(describe_configs(*cluster_, kResourceTopic, topic, kAnyNode));
}

Result<std::vector<ConfigEntry>> Admin::describe_broker_configs(int32_t broker_id) {
  return cluster_->run([&]() -> asio::awaitable<Result<std::vector<ConfigEntry>>> {
    if (cluster_->metadata().brokers.empty()) (void)co_await cluster_->refresh_metadata({}, false);
    co_return co_await describe_configs(*cluster_, kResourceBroker, std::to_string(broker_id), broker_id);
  }());
}

Status Admin::alter_topic_configs(const std::string& topic, const std::vector<ConfigChange>& changes,
                                  bool validate_only) {
  return cluster_->run([&]() -> asio::awaitable<Status> {
    proto::IncrementalAlterConfigsRequest req;
    proto::IncrementalAlterConfigsRequest::AlterConfigsResource res;
    res.resource_type = kResourceTopic;
    res.resource_name = topic;
    for (auto& ch : changes) {
      proto::IncrementalAlterConfigsRequest::AlterConfigsResource::AlterableConfig c;
      c.name = ch.name;
      c.config_operation = static_cast<int8_t>(ch.op);
      c.value = ch.value;
      res.configs.push_back(c);
    }
    req.resources.push_back(res);
    req.validate_only = validate_only;
    auto resp = co_await cluster_->call(kAnyNode, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& r : resp->responses)
      if (r.error_code != 0) co_return topic_error(r.error_code, r.error_message, topic);
    co_return Error::none();
  }());
}

Result<ClusterDescription> Admin::describe_cluster() {
  return cluster_->run([&]() -> asio::awaitable<Result<ClusterDescription>> {
    auto md = co_await cluster_->refresh_metadata({}, false);
    if (!md.ok()) co_return md.error();
    ClusterDescription d;
    d.cluster_id = md->cluster_id;
    d.controller_id = md->controller_id;
    for (auto& [id, b] : md->brokers) d.brokers.push_back({id, b.host, b.port, b.rack});
    co_return d;
  }());
}

Result<std::map<TopicPartition, int64_t>> Admin::list_offsets(const std::vector<TopicPartition>& tps, int64_t spec,
                                                              int8_t isolation_level) {
  return cluster_->run(client::list_offsets(*cluster_, tps, spec, isolation_level));
}

asio::awaitable<Result<int32_t>> Admin::coordinator(const std::string& group) {
  proto::FindCoordinatorRequest req;
  req.key = group;
  req.key_type = 0;
  auto resp = co_await cluster_->call(kAnyNode, req);
  if (!resp.ok()) co_return resp.error();
  if (resp->error_code != 0) co_return Error{resp->error_code, "FindCoordinator for group '" + group + "' failed"};
  if (!cluster_->metadata().brokers.count(resp->node_id)) (void)co_await cluster_->refresh_metadata({}, false);
  co_return resp->node_id;
}

Result<std::vector<GroupListing>> Admin::list_groups() {
  return cluster_->run([&]() -> asio::awaitable<Result<std::vector<GroupListing>>> {
    auto md = co_await cluster_->refresh_metadata({}, false);
    if (!md.ok()) co_return md.error();
    std::vector<GroupListing> out;
    for (auto& [id, b] : md->brokers) {
      proto::ListGroupsRequest req;
      auto resp = co_await cluster_->call(id, req);
      if (!resp.ok()) co_return resp.error();
      if (resp->error_code != 0) co_return Error{resp->error_code, "ListGroups failed on broker " + std::to_string(id)};
      for (auto& g : resp->groups) out.push_back({g.group_id, g.protocol_type, g.group_state});
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.group_id < b.group_id; });
    co_return out;
  }());
}

Result<GroupDescription> Admin::describe_group(const std::string& group) {
  return cluster_->run([&]() -> asio::awaitable<Result<GroupDescription>> {
    auto coord = co_await coordinator(group);
    if (!coord.ok()) co_return coord.error();
    proto::DescribeGroupsRequest req;
    req.groups.push_back(group);
    auto resp = co_await cluster_->call(*coord, req);
    if (!resp.ok()) co_return resp.error();
    if (resp->groups.empty()) co_return Error{errc::kUnknownServerError, "empty DescribeGroups response"};
    auto& g = resp->groups[0];
    if (g.error_code != 0) co_return Error{g.error_code, "describe group '" + group + "' failed"};
    GroupDescription d{g.group_id, g.group_state, g.protocol_type, g.protocol_data, {}};
    for (auto& m : g.members) {
      GroupMember gm{m.member_id, m.client_id, m.client_host, m.group_instance_id, {}};
      if (g.protocol_type == "consumer") {
        auto a = decode_assignment(m.member_assignment);
        if (a) gm.assignment = std::move(*a);
      }
      d.members.push_back(std::move(gm));
    }
    co_return d;
  }());
}

Result<std::map<TopicPartition, int64_t>> Admin::group_offsets(const std::string& group) {
  return cluster_->run([&]() -> asio::awaitable<Result<std::map<TopicPartition, int64_t>>> {
    auto coord = co_await coordinator(group);
    if (!coord.ok()) co_return coord.error();
    proto::OffsetFetchRequest req;
    req.group_id = group;
    req.topics.reset();   // all topics
    auto resp = co_await cluster_->call(*coord, req);
    if (!resp.ok()) co_return resp.error();
    if (resp->error_code != 0) co_return Error{resp->error_code, "OffsetFetch for group '" + group + "' failed"};
    std::map<TopicPartition, int64_t> out;
    for (auto& t : resp->topics)
      for (auto& p : t.partitions)
        if (p.error_code == 0 && p.committed_offset >= 0) out[{t.name, p.partition_index}] = p.committed_offset;
    co_return out;
  }());
}

Result<std::vector<PartitionLag>> Admin::group_lag(const std::string& group) {
  auto committed = group_offsets(group);
  if (!committed.ok()) return committed.error();
  std::vector<TopicPartition> tps;
  for (auto& [tp, off] : *committed) tps.push_back(tp);
  if (tps.empty()) return std::vector<PartitionLag>{};
  auto ends = list_offsets(tps, OffsetSpec::kLatest);
  if (!ends.ok()) return ends.error();
  std::vector<PartitionLag> out;
  for (auto& [tp, off] : *committed) {
    int64_t end = ends->count(tp) ? ends->at(tp) : -1;
    out.push_back({tp, off, end, end >= 0 ? std::max<int64_t>(0, end - off) : 0});
  }
  return out;
}

Status Admin::delete_group(const std::string& group) {
  return cluster_->run([&]() -> asio::awaitable<Status> {
    auto coord = co_await coordinator(group);
    if (!coord.ok()) co_return coord.error();
    proto::DeleteGroupsRequest req;
    req.groups_names.push_back(group);
    auto resp = co_await cluster_->call(*coord, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& r : resp->results)
      if (r.error_code != 0)
        co_return Error{r.error_code, "delete group '" + group + "' failed" +
                        (r.error_code == errc::kNonEmptyGroup ? std::string(": stop its consumers first") : "")};
    co_return Error::none();
  }());
}

Status Admin::reset_group_offsets(const std::string& group, const std::map<TopicPartition, int64_t>& offsets) {
  return cluster_->run([&]() -> asio::awaitable<Status> {
    auto coord = co_await coordinator(group);
    if (!coord.ok()) co_return coord.error();
    proto::OffsetCommitRequest req;
    req.group_id = group;
    req.generation_id_or_member_epoch = -1;
    req.member_id = "";
    req.topics = group_by_topic<proto::OffsetCommitRequest::OffsetCommitRequestTopic>(
        offsets, [](auto& p, const auto& item) { p.committed_offset = item.second; });
    auto resp = co_await cluster_->call(*coord, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& t : resp->topics)
      for (auto& p : t.partitions)
        if (p.error_code != 0)
          co_return Error{p.error_code, "committing offset for " + t.name + "-" + std::to_string(p.partition_index) +
                          " failed" + (p.error_code == errc::kUnknownMemberId || p.error_code == errc::kRebalanceInProgress
                                           ? std::string(": the group has active members; stop them first") : "")};
    co_return Error::none();
  }());
}

Status Admin::alter_partition_reassignments(
    const std::map<TopicPartition, std::optional<std::vector<int32_t>>>& moves) {
  return cluster_->run([&]() -> asio::awaitable<Status> {
    proto::AlterPartitionReassignmentsRequest req;
    req.timeout_ms = static_cast<int32_t>(cluster_->config().request_timeout.count());
    req.topics = group_by_topic<proto::AlterPartitionReassignmentsRequest::ReassignableTopic>(
        moves, [](auto& p, const auto& item) { p.replicas = item.second; });
    auto resp = co_await cluster_->call(kAnyNode, req);
    if (!resp.ok()) co_return resp.error();
    if (resp->error_code != 0) co_return Error{resp->error_code, resp->error_message.value_or("reassignment failed")};
    for (auto& t : resp->responses)
      for (auto& p : t.partitions)
        if (p.error_code != 0)
          co_return Error{p.error_code, t.name + "-" + std::to_string(p.partition_index) + ": " +
                          p.error_message.value_or(error_code_name(p.error_code))};
    co_return Error::none();
  }());
}

Result<std::vector<PartitionReassignment>> Admin::list_partition_reassignments() {
  return cluster_->run([&]() -> asio::awaitable<Result<std::vector<PartitionReassignment>>> {
    proto::ListPartitionReassignmentsRequest req;
    req.timeout_ms = static_cast<int32_t>(cluster_->config().request_timeout.count());
    req.topics.reset();
    auto resp = co_await cluster_->call(kAnyNode, req);
    if (!resp.ok()) co_return resp.error();
    if (resp->error_code != 0) co_return Error{resp->error_code, resp->error_message.value_or("list reassignments failed")};
    std::vector<PartitionReassignment> out;
    for (auto& t : resp->topics)
      for (auto& p : t.partitions)
        out.push_back({{t.name, p.partition_index}, p.replicas, p.adding_replicas, p.removing_replicas});
    co_return out;
  }());
}

Result<std::vector<BrokerLogDirs>> Admin::describe_log_dirs() {
  return cluster_->run([&]() -> asio::awaitable<Result<std::vector<BrokerLogDirs>>> {
    auto md = co_await cluster_->refresh_metadata({}, false);
    if (!md.ok()) co_return md.error();
    std::vector<BrokerLogDirs> out;
    for (auto& [id, b] : md->brokers) {
      BrokerLogDirs& d = out.emplace_back();
      d.broker_id = id;
      proto::DescribeLogDirsRequest req;
      req.topics.reset();  // every topic
      auto resp = co_await cluster_->call(id, req);
      if (!resp.ok()) {
        d.error = resp.error();
        continue;
      }
      if (resp->error_code != 0) {
        d.error = Error{resp->error_code, "DescribeLogDirs failed on broker " + std::to_string(id)};
        continue;
      }
      for (auto& r : resp->results)
        for (auto& t : r.topics)
          for (auto& p : t.partitions) d.partition_bytes[{t.name, p.partition_index}] += p.partition_size;
    }
    co_return out;
  }());
}

Result<QuorumDescription> Admin::describe_quorum() {
  return cluster_->run([&]() -> asio::awaitable<Result<QuorumDescription>> {
    proto::DescribeQuorumRequest req;
    auto& t = req.topics.emplace_back();
    t.topic_name = "__cluster_metadata";
    t.partitions.emplace_back().partition_index = 0;
    auto resp = co_await cluster_->call(kAnyNode, req);
    if (!resp.ok()) co_return resp.error();
    if (resp->error_code != 0) co_return Error{resp->error_code, "DescribeQuorum failed"};
    if (resp->topics.size() != 1 || resp->topics[0].partitions.size() != 1)
      co_return Error{-1, "DescribeQuorum: the answer does not describe __cluster_metadata-0"};
    const auto& p = resp->topics[0].partitions[0];
    if (p.error_code != 0)
      co_return Error{p.error_code, "DescribeQuorum: " + p.error_message.value_or(error_code_name(p.error_code))};
    QuorumDescription d;
    d.leader = p.leader_id;
    d.leader_epoch = p.leader_epoch;
    d.high_watermark = p.high_watermark;
    auto state = [](const auto& r) {
      return QuorumVoter{r.replica_id, r.log_end_offset, r.last_caught_up_timestamp >= 0};
    };
    for (const auto& r : p.current_voters) d.voters.push_back(state(r));
    for (const auto& r : p.observers) d.observers.push_back(state(r));
    co_return d;
  }());
}

Status Admin::elect_leaders(const std::vector<TopicPartition>& partitions, ElectionType type) {
  return cluster_->run([&]() -> asio::awaitable<Status> {
    proto::ElectLeadersRequest req;
    req.election_type = static_cast<int8_t>(type);
    req.timeout_ms = static_cast<int32_t>(cluster_->config().request_timeout.count());
    if (partitions.empty()) {
      req.topic_partitions.reset();
    } else {
      req.topic_partitions.emplace();
      std::map<std::string, proto::ElectLeadersRequest::TopicPartitions> per_topic;
      for (auto& tp : partitions) {
        per_topic[tp.topic].topic = tp.topic;
        per_topic[tp.topic].partitions.push_back(tp.partition);
      }
      for (auto& [n, t] : per_topic) req.topic_partitions->push_back(t);
    }
    auto resp = co_await cluster_->call(kAnyNode, req);
    if (!resp.ok()) co_return resp.error();
    if (resp->error_code != 0) co_return Error{resp->error_code, "leader election failed"};
    for (auto& t : resp->replica_election_results)
      for (auto& p : t.partition_result)
        if (p.error_code != 0 && p.error_code != 84 /* ELECTION_NOT_NEEDED */)
          co_return Error{p.error_code, t.topic + "-" + std::to_string(p.partition_id) + ": " +
                          p.error_message.value_or(error_code_name(p.error_code))};
    co_return Error::none();
  }());
}

}  // namespace millrace::client

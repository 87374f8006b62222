#include "cluster/metadata/state/metadata_state.h"

#include <algorithm>
#include <type_traits>

namespace millrace::cluster {
namespace {

using namespace records;

std::string hex(const TopicId& id) { return topic_id_hex(id); }

bool contains(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

bool unique(std::vector<int32_t> v) {
  std::sort(v.begin(), v.end());
  return std::adjacent_find(v.begin(), v.end()) == v.end();
}

// The replica lists of a partition must hold together: replicas distinct and
// non-empty, the ISR a subset of them, the leader -1 or one of them.
std::string check_partition(const PartitionState& p) {
  if (p.replicas.empty()) return "no replicas";
  if (!unique(p.replicas)) return "a replica listed twice";
  for (int32_t r : p.isr)
    if (!contains(p.replicas, r)) return "in-sync replica " + std::to_string(r) + " is not a replica";
  if (p.leader != -1 && !contains(p.replicas, p.leader))
    return "leader " + std::to_string(p.leader) + " is not a replica";
  for (int32_t r : p.adding)
    if (!contains(p.replicas, r)) return "adding replica " + std::to_string(r) + " is not a replica";
  for (int32_t r : p.removing) {
    if (!contains(p.replicas, r)) return "removing replica " + std::to_string(r) + " is not a replica";
    if (contains(p.adding, r)) return "replica " + std::to_string(r) + " both adding and removing";
  }
  if (p.removing.size() >= p.replicas.size()) return "every replica removing";
  return "";
}

// The partition a change record names and "<record> <topic>-<index>" to start
// its errors with; or no partition and the whole error.
std::pair<PartitionState*, std::string> find_partition(std::map<TopicId, TopicState>& topics, const char* record,
                                                       const TopicId& topic, int32_t index) {
  auto it = topics.find(topic);
  if (it == topics.end()) return {nullptr, std::string(record) + ": topic id " + hex(topic) + " unknown"};
  std::string where = std::string(record) + " " + it->second.name + "-" + std::to_string(index);
  auto p = it->second.partitions.find(index);
  if (p == it->second.partitions.end()) return {nullptr, where + ": unknown partition"};
  return {&p->second, where};
}

}  // namespace

namespace {
// A registration's endpoints as a record's (brokers' and controllers' have the same fields).
template <typename Ep>
std::vector<Ep> record_endpoints(const std::vector<BrokerEndpoint>& endpoints) {
  std::vector<Ep> out;
  for (const auto& e : endpoints) {
    Ep ep;
    ep.name = e.name;
    ep.host = e.host;
    ep.port = e.port;
    ep.security_protocol = e.security_protocol;
    out.push_back(std::move(ep));
  }
  return out;
}
}  // namespace

RegisterBrokerRecord register_record(const BrokerRegistration& b) {
  RegisterBrokerRecord r;
  r.broker_id = b.id;
  r.incarnation_id.bytes = b.incarnation;
  r.broker_epoch = b.epoch;
  r.end_points = record_endpoints<RegisterBrokerRecord::BrokerEndpoint>(b.endpoints);
  r.rack = b.rack;
  r.fenced = b.fenced;
  r.in_controlled_shutdown = b.in_controlled_shutdown;
  return r;
}

RegisterControllerRecord register_record(const ControllerRegistration& c) {
  RegisterControllerRecord r;
  r.controller_id = c.id;
  r.incarnation_id.bytes = c.directory_id;
  r.end_points = record_endpoints<RegisterControllerRecord::ControllerEndpoint>(c.endpoints);
  return r;
}

const TopicState* MetadataState::topic(std::string_view name) const {
  auto it = ids_by_name_.find(name);
  return it == ids_by_name_.end() ? nullptr : &topics_.at(it->second);
}

std::optional<std::string> MetadataState::config(int8_t type, const std::string& resource,
                                                 const std::string& key) const {
  auto it = configs_.find({type, resource});
  if (it == configs_.end()) return std::nullopt;
  auto k = it->second.find(key);
  if (k == it->second.end()) return std::nullopt;
  return k->second;
}

std::string MetadataState::apply(const AnyRecord& record) {
  return std::visit(
      [&](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, RegisterBrokerRecord>) {
          if (r.broker_id < 0) return "RegisterBrokerRecord: broker id " + std::to_string(r.broker_id);
          if (auto it = brokers_.find(r.broker_id); it != brokers_.end() && r.broker_epoch <= it->second.epoch)
            return "RegisterBrokerRecord: broker " + std::to_string(r.broker_id) + " epoch " +
                   std::to_string(r.broker_epoch) + " is not above its registered " + std::to_string(it->second.epoch);
          BrokerRegistration b;
          b.id = r.broker_id;
          b.incarnation = r.incarnation_id.bytes;
          b.epoch = r.broker_epoch;
          for (const auto& e : r.end_points) b.endpoints.push_back({e.name, e.host, e.port, e.security_protocol});
          b.rack = r.rack;
          b.fenced = r.fenced;
          b.in_controlled_shutdown = r.in_controlled_shutdown;
          brokers_[r.broker_id] = std::move(b);
          return "";
        } else if constexpr (std::is_same_v<T, UserScramCredentialRecord>) {
          if (r.name.empty()) return "UserScramCredentialRecord: no user name";
          if (r.mechanism != 1 && r.mechanism != 2)
            return "UserScramCredentialRecord: mechanism " + std::to_string(r.mechanism) + " is not SCRAM-SHA-256 (1) or "
                   "SCRAM-SHA-512 (2)";
          scram_[{r.name, r.mechanism}] = r;
          return "";
        } else if constexpr (std::is_same_v<T, RemoveUserScramCredentialRecord>) {
          if (scram_.erase({r.name, r.mechanism}) == 0)
            return "RemoveUserScramCredentialRecord: no credential of " + r.name + " for mechanism " +
                   std::to_string(r.mechanism);
          return "";
        } else if constexpr (std::is_same_v<T, AccessControlEntryRecord>) {
          acls_[r.id.bytes] = r;
          return "";
        } else if constexpr (std::is_same_v<T, RemoveAccessControlEntryRecord>) {
          if (acls_.erase(r.id.bytes) == 0) return "RemoveAccessControlEntryRecord: no ACL of that id";
          return "";
        } else if constexpr (std::is_same_v<T, RegisterControllerRecord>) {
          if (r.controller_id < 0) return "RegisterControllerRecord: controller id " + std::to_string(r.controller_id);
          if (r.end_points.empty())
            return "RegisterControllerRecord: controller " + std::to_string(r.controller_id) + " has no endpoint";
          ControllerRegistration c;
          c.id = r.controller_id;
          c.directory_id = r.incarnation_id.bytes;
          for (const auto& e : r.end_points) c.endpoints.push_back({e.name, e.host, e.port, e.security_protocol});
          controllers_[c.id] = std::move(c);
          return "";
        } else if constexpr (std::is_same_v<T, UnregisterBrokerRecord>) {
          auto it = brokers_.find(r.broker_id);
          if (it == brokers_.end()) return "UnregisterBrokerRecord: broker " + std::to_string(r.broker_id) + " unknown";
          if (it->second.epoch != r.broker_epoch)
            return "UnregisterBrokerRecord: broker " + std::to_string(r.broker_id) + " epoch " +
                   std::to_string(r.broker_epoch) + " is not its registered " + std::to_string(it->second.epoch);
          brokers_.erase(it);
          return "";
        } else if constexpr (std::is_same_v<T, FenceBrokerRecord> || std::is_same_v<T, UnfenceBrokerRecord>) {
          const char* what = std::is_same_v<T, FenceBrokerRecord> ? "FenceBrokerRecord" : "UnfenceBrokerRecord";
          auto it = brokers_.find(r.id);
          if (it == brokers_.end()) return std::string(what) + ": broker " + std::to_string(r.id) + " unknown";
          if (it->second.epoch != r.epoch)
            return std::string(what) + ": broker " + std::to_string(r.id) + " epoch " + std::to_string(r.epoch) +
                   " is not its registered " + std::to_string(it->second.epoch);
          it->second.fenced = std::is_same_v<T, FenceBrokerRecord>;
          return "";
        } else if constexpr (std::is_same_v<T, BrokerRegistrationChangeRecord>) {
          auto it = brokers_.find(r.broker_id);
          if (it == brokers_.end())
            return "BrokerRegistrationChangeRecord: broker " + std::to_string(r.broker_id) + " unknown";
          if (it->second.epoch != r.broker_epoch)
            return "BrokerRegistrationChangeRecord: broker " + std::to_string(r.broker_id) + " epoch " +
                   std::to_string(r.broker_epoch) + " is not its registered " + std::to_string(it->second.epoch);
          if (r.fenced < -1 || r.fenced > 1 || r.in_controlled_shutdown < 0 || r.in_controlled_shutdown > 1)
            return "BrokerRegistrationChangeRecord: Fenced " + std::to_string(r.fenced) + " / InControlledShutdown " +
                   std::to_string(r.in_controlled_shutdown) + " out of range";
          if (r.fenced != 0) it->second.fenced = r.fenced == 1;
          if (r.in_controlled_shutdown == 1) it->second.in_controlled_shutdown = true;
          return "";
        } else if constexpr (std::is_same_v<T, TopicRecord>) {
          if (r.name.empty()) return "TopicRecord: empty name";
          if (ids_by_name_.count(r.name)) return "TopicRecord: topic " + r.name + " exists";
          if (topics_.count(r.topic_id.bytes)) return "TopicRecord: topic id " + hex(r.topic_id.bytes) + " exists";
          topics_[r.topic_id.bytes] = TopicState{r.name, r.topic_id.bytes, {}};
          ids_by_name_[r.name] = r.topic_id.bytes;
          return "";
        } else if constexpr (std::is_same_v<T, PartitionRecord>) {
          auto it = topics_.find(r.topic_id.bytes);
          if (it == topics_.end()) return "PartitionRecord: topic id " + hex(r.topic_id.bytes) + " unknown";
          std::string where = "PartitionRecord " + it->second.name + "-" + std::to_string(r.partition_id);
          if (r.partition_id < 0) return where + ": negative partition id";
          if (it->second.partitions.count(r.partition_id)) return where + ": exists";
          PartitionState p{r.replicas, r.isr, r.removing_replicas, r.adding_replicas, r.leader, r.leader_epoch,
                           r.partition_epoch};
          if (auto bad = check_partition(p); !bad.empty()) return where + ": " + bad;
          it->second.partitions[r.partition_id] = std::move(p);
          return "";
        } else if constexpr (std::is_same_v<T, PartitionChangeRecord>) {
          auto [found, where] = find_partition(topics_, "PartitionChangeRecord", r.topic_id.bytes, r.partition_id);
          if (!found) return where;
          PartitionState p = *found;
          if (r.replicas) p.replicas = *r.replicas;
          if (r.isr) p.isr = *r.isr;
          if (r.removing_replicas) p.removing = *r.removing_replicas;
          if (r.adding_replicas) p.adding = *r.adding_replicas;
          if (r.leader != -2) {
            if (r.leader < -1) return where + ": leader " + std::to_string(r.leader);
            p.leader = r.leader;
            ++p.leader_epoch;
          }
          ++p.partition_epoch;
          if (auto bad = check_partition(p); !bad.empty()) return where + ": " + bad;
          *found = std::move(p);
          return "";
        } else if constexpr (std::is_same_v<T, PartitionLeaderRecord>) {
          auto [found, where] = find_partition(topics_, "PartitionLeaderRecord", r.topic_id.bytes, r.partition_id);
          if (!found) return where;
          PartitionState p = *found;
          if (r.leader < 0) return where + ": leader " + std::to_string(r.leader);
          // The epoch is the Raft term: it never goes back, and a term has one leader.
          if (r.leader_epoch < p.leader_epoch)
            return where + ": leader epoch " + std::to_string(r.leader_epoch) + " is below the partition's " +
                   std::to_string(p.leader_epoch);
          if (r.leader_epoch == p.leader_epoch && p.leader != -1 && r.leader != p.leader)
            return where + ": leader epoch " + std::to_string(r.leader_epoch) + " is led by " +
                   std::to_string(p.leader) + ", not " + std::to_string(r.leader);
          p.leader = r.leader;
          p.leader_epoch = r.leader_epoch;
          p.isr = r.isr;
          ++p.partition_epoch;
          if (auto bad = check_partition(p); !bad.empty()) return where + ": " + bad;
          *found = std::move(p);
          return "";
        } else if constexpr (std::is_same_v<T, RemoveTopicRecord>) {
          auto it = topics_.find(r.topic_id.bytes);
          if (it == topics_.end()) return "RemoveTopicRecord: topic id " + hex(r.topic_id.bytes) + " unknown";
          configs_.erase({kTopicResource, it->second.name});
          ids_by_name_.erase(it->second.name);
          topics_.erase(it);
          return "";
        } else if constexpr (std::is_same_v<T, ConfigRecord>) {
          if (r.name.empty()) return "ConfigRecord: empty key";
          if (r.resource_type == kTopicResource && !ids_by_name_.count(r.resource_name))
            return "ConfigRecord: topic " + r.resource_name + " unknown";
          ConfigKey key{r.resource_type, r.resource_name};
          if (r.value) {
            configs_[key][r.name] = *r.value;
          } else if (auto c = configs_.find(key); c != configs_.end()) {
            c->second.erase(r.name);
            if (c->second.empty()) configs_.erase(c);
          }
          return "";
        } else if constexpr (std::is_same_v<T, ProducerIdsRecord>) {
          if (r.next_producer_id <= next_producer_id_)
            return "ProducerIdsRecord: next producer id " + std::to_string(r.next_producer_id) +
                   " does not move past " + std::to_string(next_producer_id_);
          next_producer_id_ = r.next_producer_id;
          producer_ids_broker_ = r.broker_id;
          producer_ids_broker_epoch_ = r.broker_epoch;
          return "";
        } else if constexpr (std::is_same_v<T, FeatureLevelRecord>) {
          if (r.name.empty()) return "FeatureLevelRecord: empty name";
          if (r.feature_level == 0) features_.erase(r.name);
          else features_[r.name] = r.feature_level;
          return "";
        } else {
          return "";  // NoOp; ACLs, credentials, quotas, tokens, transactions: later issues
        }
      },
      record);
}

std::vector<AnyRecord> MetadataState::snapshot() const {
  std::vector<AnyRecord> out;
  for (const auto& [name, level] : features_) {
    FeatureLevelRecord f;
    f.name = name;
    f.feature_level = level;
    out.emplace_back(std::move(f));
  }
  for (const auto& [id, c] : controllers_) out.emplace_back(register_record(c));
  for (const auto& [id, b] : brokers_) out.emplace_back(register_record(b));
  for (const auto& [id, t] : topics_) {
    TopicRecord tr;
    tr.name = t.name;
    tr.topic_id.bytes = id;
    out.emplace_back(std::move(tr));
    for (const auto& [index, p] : t.partitions) {
      PartitionRecord pr;
      pr.partition_id = index;
      pr.topic_id.bytes = id;
      pr.replicas = p.replicas;
      pr.isr = p.isr;
      pr.removing_replicas = p.removing;
      pr.adding_replicas = p.adding;
      pr.leader = p.leader;
      pr.leader_epoch = p.leader_epoch;
      pr.partition_epoch = p.partition_epoch;
      out.emplace_back(std::move(pr));
    }
  }
  for (const auto& [key, entries] : configs_)
    for (const auto& [name, value] : entries) {
      ConfigRecord c;
      c.resource_type = key.first;
      c.resource_name = key.second;
      c.name = name;
      c.value = value;
      out.emplace_back(std::move(c));
    }
  for (const auto& [key, r] : scram_) out.emplace_back(r);
  for (const auto& [id, r] : acls_) out.emplace_back(r);
  if (next_producer_id_ > 0) {
    ProducerIdsRecord p;
    p.broker_id = producer_ids_broker_;
    p.broker_epoch = producer_ids_broker_epoch_;
    p.next_producer_id = next_producer_id_;
    out.emplace_back(std::move(p));
  }
  return out;
}

MetadataImage MetadataState::image(uint64_t version, const std::string& cluster_id, int32_t controller_id,
                                   const std::string& listener) const {
  std::vector<BrokerImage> brokers;
  for (const auto& [id, b] : brokers_) {
    if (b.fenced) continue;  // a fenced broker is not handed to clients
    BrokerImage bi{id, "", -1, b.rack, false, b.in_controlled_shutdown, {}};
    for (const auto& e : b.endpoints) {
      bi.endpoints.push_back({e.name, e.host, e.port});
      if (e.name == listener) {
        bi.host = e.host;
        bi.port = e.port;
      }
    }
    if (!bi.endpoints.empty()) brokers.push_back(std::move(bi));
  }
  auto serving = [&](int32_t id) {
    auto it = brokers_.find(id);
    return it != brokers_.end() && !it->second.fenced;
  };
  std::vector<TopicImage> topics;
  for (const auto& [id, t] : topics_) {
    TopicImage ti;
    ti.name = t.name;
    ti.id = id;
    ti.internal = t.name == "__consumer_offsets" || t.name == "__transaction_state";
    // Partitions are numbered 0..n-1 in the image; a gap (never written by the
    // controller) ends the topic's partitions there.
    for (int32_t i = 0;; ++i) {
      auto p = t.partitions.find(i);
      if (p == t.partitions.end()) break;
      PartitionImage pi;
      pi.index = i;
      // A partition of several replicas is led by its Raft group's leader,
      // known once reported (its epoch is the Raft term, from 1): placement's
      // first replica (epoch 0) is not handed to clients as a leader, or a
      // producer right after CreateTopics would be refused by it and retry
      // (some clients drop what a partial failure leaves: kafkajs).
      const bool elected = p->second.replicas.size() < 2 || p->second.leader_epoch > 0;
      pi.leader = elected && serving(p->second.leader) ? p->second.leader : -1;
      pi.leader_epoch = p->second.leader_epoch;
      pi.replicas = p->second.replicas;
      pi.isr = p->second.isr;
      pi.adding = p->second.adding;
      pi.removing = p->second.removing;
      ti.partitions.push_back(std::move(pi));
    }
    topics.push_back(std::move(ti));
  }
  MetadataImage out(version, cluster_id, controller_id, std::move(brokers), std::move(topics));
  out.set_features(features_);
  if (!scram_.empty() || !acls_.empty()) {
    auto security = std::make_shared<SecurityImage>();
    for (const auto& [key, r] : scram_) security->scram[key] = r;
    for (const auto& [id, r] : acls_) security->acls.push_back(r);
    out.set_security(std::move(security));
  }
  return out;
}

}  // namespace millrace::cluster

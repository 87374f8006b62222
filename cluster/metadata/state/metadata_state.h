// The cluster's metadata as its log describes it: what a node has after
// applying the committed metadata records in log order (KRaft's MetadataDelta
// folded into its image). Every broker keeps one, fed by the controller
// quorum's log; the controller validates a change against it before writing
// the records. Pure: no I/O, no clock, no threads.
//
// apply() takes one record and changes the state, or returns why the record
// does not fit (a partition of an unknown topic, a broker epoch that is not
// the registered one, ...) and changes nothing: a record is applied whole or
// not at all, so every node that applies the same committed log holds the same
// state. snapshot() gives the records that rebuild the state from nothing: a
// snapshot bounds the log, and replaying it gives an equal state (the tests
// hold that for generated histories).
//
// Kafka's semantics kept: a PartitionChangeRecord's Leader -2 means "no
// change", -1 "no leader"; a leader change bumps the leader epoch; every
// change bumps the partition epoch; null lists mean "unchanged". Millrace's
// PartitionLeaderRecord (a replicated partition's Raft leader) sets leader,
// leader epoch (the Raft term, given, not bumped) and ISR: an epoch below the
// partition's, or the partition's own epoch with another leader than the one
// it names (a term has one leader; "no leader" names none), is refused. A
// ConfigRecord with a null value deletes the key; removing a topic removes its
// configs. A RegisterControllerRecord replaces the controller's previous
// registration (a voter that moved). Records of later issues (ACLs, SCRAM credentials, quotas,
// delegation tokens, transactions) are accepted and not yet interpreted.
//
// image() is what handlers read (cluster/metadata/metadata_image.h): brokers
// that are registered and not fenced, addressed by one listener name; a
// partition whose leader is fenced or unknown shows no leader.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/metadata/metadata_image.h"
#include "cluster/metadata/records/codec.h"

namespace millrace::cluster {

struct BrokerEndpoint {
  std::string name, host;
  uint16_t port = 0;
  int16_t security_protocol = 0;
  bool operator==(const BrokerEndpoint&) const = default;
};

struct BrokerRegistration {
  int32_t id = -1;
  TopicId incarnation{};
  int64_t epoch = -1;
  std::vector<BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
  bool fenced = true;
  bool in_controlled_shutdown = false;
  bool operator==(const BrokerRegistration&) const = default;
};

struct PartitionState {
  std::vector<int32_t> replicas, isr, removing, adding;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  bool operator==(const PartitionState&) const = default;
};

struct TopicState {
  std::string name;
  TopicId id{};
  std::map<int32_t, PartitionState> partitions;
  bool operator==(const TopicState&) const = default;
};

// A controller of a dynamic quorum (KIP-853) and where it is reached: a
// RegisterControllerRecord. Millrace keys a voter as KIP-853 does, by node id
// and the id of its metadata directory (KIP-858), and records that directory
// id in the record's IncarnationId: a controller restarted on the same
// directory is the same voter; one on a wiped directory is a new one.
struct ControllerRegistration {
  int32_t id = -1;
  TopicId directory_id{};
  std::vector<BrokerEndpoint> endpoints;
  bool operator==(const ControllerRegistration&) const = default;
};

records::RegisterControllerRecord register_record(const ControllerRegistration& c);

// The RegisterBrokerRecord that registers `b` as it is.
records::RegisterBrokerRecord register_record(const BrokerRegistration& b);

// Config resource types, as Kafka numbers them.
inline constexpr int8_t kTopicResource = 2, kBrokerResource = 4;

class MetadataState {
 public:
  using ConfigKey = std::pair<int8_t, std::string>;  // (resource type, resource name)

  // "" when applied; otherwise why not, and nothing changed.
  std::string apply(const records::AnyRecord& record);

  const std::map<int32_t, BrokerRegistration>& brokers() const { return brokers_; }
  const std::map<int32_t, ControllerRegistration>& controllers() const { return controllers_; }
  const std::map<TopicId, TopicState>& topics() const { return topics_; }
  const TopicState* topic(std::string_view name) const;
  const std::map<ConfigKey, std::map<std::string, std::string>>& configs() const { return configs_; }
  std::optional<std::string> config(int8_t type, const std::string& resource, const std::string& key) const;
  int64_t next_producer_id() const { return next_producer_id_; }
  const std::map<std::string, int16_t>& features() const { return features_; }
  // SCRAM credentials by (user, mechanism: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512), as recorded.
  using ScramKey = std::pair<std::string, int8_t>;
  const std::map<ScramKey, records::UserScramCredentialRecord>& scram() const { return scram_; }
  // ACL bindings by id, as recorded (AccessControlEntryRecord).
  const std::map<std::array<uint8_t, 16>, records::AccessControlEntryRecord>& acls() const { return acls_; }

  // Records that rebuild this state from nothing, in an order that applies.
  std::vector<records::AnyRecord> snapshot() const;

  MetadataImage image(uint64_t version, const std::string& cluster_id, int32_t controller_id,
                      const std::string& listener) const;

  bool operator==(const MetadataState&) const = default;

 private:
  std::map<int32_t, BrokerRegistration> brokers_;
  std::map<int32_t, ControllerRegistration> controllers_;
  std::map<TopicId, TopicState> topics_;
  std::map<std::string, TopicId, std::less<>> ids_by_name_;
  std::map<ConfigKey, std::map<std::string, std::string>> configs_;
  int64_t next_producer_id_ = 0;
  int32_t producer_ids_broker_ = -1;
  int64_t producer_ids_broker_epoch_ = -1;
  std::map<std::string, int16_t> features_;
  std::map<ScramKey, records::UserScramCredentialRecord> scram_;
  std::map<std::array<uint8_t, 16>, records::AccessControlEntryRecord> acls_;
};

}  // namespace millrace::cluster

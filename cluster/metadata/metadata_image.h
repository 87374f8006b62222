// The metadata image: what the cluster looks like at one version — brokers,
// topics, partitions, their leaders and leader epochs (KRaft's MetadataImage,
// Redpanda's metadata cache). Every handler that answers with leadership or
// broker addresses (Metadata, DescribeTopicPartitions, DescribeCluster,
// FindCoordinator) reads it; none holds a node id or an epoch of its own.
//
// An image is immutable once built: readers on any thread take a snapshot
// (MetadataCache::current) and keep it for the whole request. Today the local
// publisher (local_image.h) builds one from the topic table on every change;
// the controller quorum will build them from its metadata log.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/metadata/records/generated/access_control_entry_record.h"
#include "cluster/metadata/records/generated/user_scram_credential_record.h"

namespace millrace::cluster {

using TopicId = std::array<uint8_t, 16>;

// 32 lowercase hex digits, for messages and files.
std::string topic_id_hex(const TopicId& id);

struct ListenerEndpoint {
  std::string listener;  // PLAINTEXT, SSL, EXTERNAL, ...
  std::string host;
  int32_t port = -1;
  bool operator==(const ListenerEndpoint&) const = default;
};

struct BrokerImage {
  int32_t id = -1;
  std::string host;  // on the image's listener (the inter-broker one); empty when it has none
  int32_t port = -1;
  std::optional<std::string> rack;
  bool fenced = false;
  bool in_controlled_shutdown = false;  // shown in Metadata, but leads nothing new
  std::vector<ListenerEndpoint> endpoints;  // every listener it registered

  // Where a client on `listener` reaches it (Kafka answers with the endpoints
  // of the listener the request came in on); nullopt when it has none there.
  std::optional<ListenerEndpoint> endpoint(std::string_view listener) const;
};

struct PartitionImage {
  int32_t index = 0;
  int32_t leader = -1;  // -1: no leader
  int32_t leader_epoch = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  // A move in progress (AlterPartitionReassignments): replicas being added
  // and removed (replicas = target + removing); both empty when none.
  std::vector<int32_t> adding, removing;
};

struct TopicImage {
  std::string name;
  TopicId id{};
  bool internal = false;
  std::vector<PartitionImage> partitions;  // partitions[i].index == i
};

// What the metadata log says of security: SCRAM credentials by (user,
// mechanism) and ACL bindings, as recorded (the broker's authenticator and
// authorizer read them). Shared between images while unchanged.
struct SecurityImage {
  std::map<std::pair<std::string, int8_t>, records::UserScramCredentialRecord> scram;
  std::vector<records::AccessControlEntryRecord> acls;
};

class MetadataImage {
 public:
  MetadataImage() = default;
  MetadataImage(uint64_t version, std::string cluster_id, int32_t controller_id, std::vector<BrokerImage> brokers,
                std::vector<TopicImage> topics);

  uint64_t version() const { return version_; }
  const std::string& cluster_id() const { return cluster_id_; }
  int32_t controller_id() const { return controller_id_; }
  const std::vector<BrokerImage>& brokers() const { return brokers_; }
  const std::map<std::string, TopicImage, std::less<>>& topics() const { return topics_; }  // by name

  const BrokerImage* broker(int32_t id) const;
  const TopicImage* topic(std::string_view name) const;
  const TopicImage* topic(const TopicId& id) const;
  const PartitionImage* partition(std::string_view topic, int32_t index) const;
  // The brokers that may take leadership: registered, unfenced (fenced ones
  // are not in the image), not in controlled shutdown.
  std::set<int32_t> leader_candidates() const;
  // Never null (empty when the log holds no credential or ACL).
  const SecurityImage& security() const;
  void set_security(std::shared_ptr<const SecurityImage> s) { security_ = std::move(s); }
  // The finalized feature levels the metadata log records (FeatureLevelRecord).
  const std::map<std::string, int16_t>& features() const { return features_; }
  void set_features(std::map<std::string, int16_t> f) { features_ = std::move(f); }

 private:
  uint64_t version_ = 0;
  std::string cluster_id_;
  int32_t controller_id_ = -1;
  std::vector<BrokerImage> brokers_;
  std::map<std::string, TopicImage, std::less<>> topics_;
  std::map<TopicId, std::string> names_by_id_;
  std::shared_ptr<const SecurityImage> security_;
  std::map<std::string, int16_t> features_;
};

}  // namespace millrace::cluster

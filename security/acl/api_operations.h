// Which ACLs each Kafka API needs (Kafka's "Operations and Resources on
// Protocols" table, as KafkaApis and ControllerApis of Kafka 4.1 apply it),
// by API key, as data: for each API the checks a handler makes, on which
// resources of the request, under which condition, and what a denial does to
// the response. The broker's handlers consult it; authorizer.h decides each
// check.
//
// Where Kafka's rule changed between versions, this table is Kafka 4.1's:
//   - Idempotent Produce: Kafka before 2.8 also required CLUSTER
//     IDEMPOTENT_WRITE; since 2.8 (KIP-679) WRITE on the topic is enough.
//     InitProducerId of an idempotent producer is allowed by CLUSTER
//     IDEMPOTENT_WRITE or by WRITE on any topic (authorize_by_resource_type).
//   - ConsumerGroupHeartbeat: GROUP READ only until 3.9; since 4.0 DESCRIBE
//     on every subscribed topic name too, all or nothing, else
//     TOPIC_AUTHORIZATION_FAILED (regular-expression subscriptions are
//     filtered by the group coordinator instead).
//   - CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs,
//     IncrementalAlterConfigs: since KRaft (3.x, only mode in 4.0) the broker
//     forwards them and the controller's rules apply; they add CLUSTER DELETE
//     as an alternative to TOPIC DELETE for DeleteTopics, which the
//     ZooKeeper-mode broker did not accept.
//   - DescribeCluster: on a broker it needs no ACL (CLUSTER DESCRIBE only gates
//     cluster_authorized_operations, else 0); on a 4.x controller endpoint it
//     needs CLUSTER ALTER. Millrace answers as a broker.
//   - FindCoordinator v4+ and OffsetFetch v8+ carry several keys or groups and
//     answer each with its own error; older versions fail the whole request.
//   - AddPartitionsToTxn v4+ is sent only between brokers and needs CLUSTER
//     CLUSTER_ACTION instead of the client checks.
// Not listed (no ACL check): ApiVersions, SaslHandshake, SaslAuthenticate.
// Delegation-token and share-group APIs are not listed (Millrace does not
// serve them).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "security/acl/acl.h"

namespace millrace::security::acl {

// Kafka API keys (the ones this table covers).
namespace api {
inline constexpr int16_t kProduce = 0, kFetch = 1, kListOffsets = 2, kMetadata = 3, kOffsetCommit = 8,
                         kOffsetFetch = 9, kFindCoordinator = 10, kJoinGroup = 11, kHeartbeat = 12,
                         kLeaveGroup = 13, kSyncGroup = 14, kDescribeGroups = 15, kListGroups = 16,
                         kCreateTopics = 19, kDeleteTopics = 20, kDeleteRecords = 21, kInitProducerId = 22,
                         kOffsetForLeaderEpoch = 23, kAddPartitionsToTxn = 24, kAddOffsetsToTxn = 25,
                         kEndTxn = 26, kWriteTxnMarkers = 27, kTxnOffsetCommit = 28, kDescribeAcls = 29,
                         kCreateAcls = 30, kDeleteAcls = 31, kDescribeConfigs = 32, kAlterConfigs = 33,
                         kAlterReplicaLogDirs = 34, kDescribeLogDirs = 35, kCreatePartitions = 37,
                         kDeleteGroups = 42, kElectLeaders = 43, kIncrementalAlterConfigs = 44,
                         kAlterPartitionReassignments = 45, kListPartitionReassignments = 46, kOffsetDelete = 47,
                         kDescribeClientQuotas = 48, kAlterClientQuotas = 49, kDescribeUserScramCredentials = 50,
                         kAlterUserScramCredentials = 51, kDescribeQuorum = 55, kUpdateFeatures = 57,
                         kFetchSnapshot = 59, kDescribeCluster = 60, kDescribeProducers = 61,
                         kBrokerRegistration = 62, kBrokerHeartbeat = 63, kUnregisterBroker = 64,
                         kDescribeTransactions = 65, kListTransactions = 66, kAllocateProducerIds = 67,
                         kConsumerGroupHeartbeat = 68, kConsumerGroupDescribe = 69, kDescribeTopicPartitions = 75,
                         kAddRaftVoter = 80, kRemoveRaftVoter = 81;
}  // namespace api

// The error code of each kind of denial.
inline constexpr int16_t kTopicAuthorizationFailed = 29;
inline constexpr int16_t kGroupAuthorizationFailed = 30;
inline constexpr int16_t kClusterAuthorizationFailed = 31;
inline constexpr int16_t kTransactionalIdAuthorizationFailed = 53;

// Which resources of the request a check is made on.
enum class Target : uint8_t {
  kCluster,             // the cluster resource, named kClusterName
  kEachTopic,           // every topic the request names (or the response would list)
  kGroup,               // the request's group id
  kEachGroup,           // every group id the request names (or the response would list)
  kTransactionalId,     // the request's transactional id
  kEachTransactionalId, // every transactional id named (or listed)
  kEachKey,             // every FindCoordinator key (a group id or a transactional id)
  kEachConfigResource,  // every config resource named (see config_resource_check)
  kAnyTopic,            // some topic, whichever: Authorizer::authorize_by_resource_type
};

// When a check applies.
enum class When : uint8_t {
  kAlways,
  kTransactional,     // Produce with transactional batches; InitProducerId with a transactional id
  kNotTransactional,  // InitProducerId without a transactional id (idempotent producer)
  kFromReplica,       // Fetch from a follower (replica id >= 0)
  kFromConsumer,      // Fetch from a consumer
  kFromBroker,        // AddPartitionsToTxn v4+ (broker to broker)
  kFromClient,        // AddPartitionsToTxn v0-3
  kNamedTopics,       // the request names its topics
  kAllTopics,         // the request asks for every topic (Metadata null topics, OffsetFetch null topics)
  kAutoCreate,        // Metadata: a named topic that does not exist, with allow_auto_topic_creation
  kTopicsById,        // DeleteTopics naming topics by id: DESCRIBE, so the name may be revealed
  kGroupKey,          // FindCoordinator key type GROUP (0)
  kTransactionKey,    // FindCoordinator key type TRANSACTION (1)
  kSubscribedTopics,  // ConsumerGroupHeartbeat with subscribed_topic_names
  kTopicConfig,       // a config resource of type TOPIC (2)
  kBrokerConfig,      // BROKER (4), BROKER_LOGGER (8) or CLIENT_METRICS (16)
  kGroupConfig,       // GROUP (32)
  kReturnConfigs,     // CreateTopics returning the created topics' configs
  kAuthorizedOperations,  // DescribeCluster's include_cluster_authorized_operations
};

// What a denial does to the response.
enum class OnDenied : uint8_t {
  kFailRequest,     // the whole request fails with error_code (top level or every entry)
  kFailEntry,       // that entry (topic, partitions, group, key, resource) gets error_code; others proceed
  kOmitEntry,       // that entry is left out of the response silently (listings)
  kWithholdDetail,  // the entry succeeds without the detail (configs: topic_config_error_code =
                    // error_code; authorized operations: 0)
};

struct Check {
  ResourceType resource_type;
  AclOperation operation;
  Target target;
  bool operator==(const Check&) const = default;
};

struct Requirement {
  When when;
  Check check;
  OnDenied on_denied;
  int16_t error_code;           // 0 when a denial only omits or withholds
  std::optional<Check> unless;  // not needed when this check passes (made once per request)
};

struct ApiRequirements {
  int16_t api_key;
  std::string_view api_name;
  std::span<const Requirement> requirements;  // in the order the handler checks them
};

// The entry of this API key; nullptr for an API the table does not cover.
const ApiRequirements* find_api_requirements(int16_t api_key);
// Every entry, by API key.
std::span<const ApiRequirements> all_api_requirements();

// A config resource type of DescribeConfigs/AlterConfigs/IncrementalAlterConfigs
// as an ACL check: TOPIC (2) on the topic (TOPIC_AUTHORIZATION_FAILED),
// BROKER (4), BROKER_LOGGER (8), CLIENT_METRICS (16) on the cluster
// (CLUSTER_AUTHORIZATION_FAILED), GROUP (32) on the group
// (GROUP_AUTHORIZATION_FAILED). The resource to check is the config
// resource's name, or kClusterName when cluster_resource. nullopt for another
// type (Kafka answers INVALID_REQUEST).
struct ConfigResourceCheck {
  ResourceType resource_type;
  bool cluster_resource;
  int16_t error_code;
};
std::optional<ConfigResourceCheck> config_resource_check(int8_t config_resource_type);

}  // namespace millrace::security::acl

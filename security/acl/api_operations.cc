// The table of which ACLs each Kafka API needs (see api_operations.h).
#include "security/acl/api_operations.h"

#include <algorithm>
#include <array>

namespace millrace::security::acl {

namespace {

using enum When;
using enum OnDenied;
using RT = ResourceType;
using Op = AclOperation;
using T = Target;

constexpr int16_t kTopicErr = kTopicAuthorizationFailed;
constexpr int16_t kGroupErr = kGroupAuthorizationFailed;
constexpr int16_t kClusterErr = kClusterAuthorizationFailed;
constexpr int16_t kTxnErr = kTransactionalIdAuthorizationFailed;

constexpr Check cluster(Op op) { return Check{RT::kCluster, op, T::kCluster}; }
constexpr Check each_topic(Op op) { return Check{RT::kTopic, op, T::kEachTopic}; }
constexpr Check group(Op op) { return Check{RT::kGroup, op, T::kGroup}; }
constexpr Check each_group(Op op) { return Check{RT::kGroup, op, T::kEachGroup}; }
constexpr Check txn_id(Op op) { return Check{RT::kTransactionalId, op, T::kTransactionalId}; }

// A request that only needs one operation on the cluster.
constexpr std::array<Requirement, 1> cluster_only(Op op) {
  return {Requirement{kAlways, cluster(op), kFailRequest, kClusterErr, std::nullopt}};
}

constexpr std::array kProduce = {
    Requirement{kTransactional, txn_id(Op::kWrite), kFailRequest, kTxnErr, std::nullopt},
    Requirement{kAlways, each_topic(Op::kWrite), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kFetch = {
    // A follower without CLUSTER_ACTION gets TOPIC_AUTHORIZATION_FAILED on every partition.
    Requirement{kFromReplica, cluster(Op::kClusterAction), kFailEntry, kTopicErr, std::nullopt},
    Requirement{kFromConsumer, each_topic(Op::kRead), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kListOffsets = {
    Requirement{kAlways, each_topic(Op::kDescribe), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kMetadata = {
    Requirement{kNamedTopics, each_topic(Op::kDescribe), kFailEntry, kTopicErr, std::nullopt},
    Requirement{kAllTopics, each_topic(Op::kDescribe), kOmitEntry, 0, std::nullopt},
    Requirement{kAutoCreate, each_topic(Op::kCreate), kFailEntry, kTopicErr, cluster(Op::kCreate)},
};
constexpr std::array kOffsetCommit = {
    Requirement{kAlways, group(Op::kRead), kFailRequest, kGroupErr, std::nullopt},
    Requirement{kAlways, each_topic(Op::kRead), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kOffsetFetch = {
    Requirement{kAlways, each_group(Op::kDescribe), kFailEntry, kGroupErr, std::nullopt},
    Requirement{kNamedTopics, each_topic(Op::kDescribe), kFailEntry, kTopicErr, std::nullopt},
    Requirement{kAllTopics, each_topic(Op::kDescribe), kOmitEntry, 0, std::nullopt},
};
constexpr std::array kFindCoordinator = {
    Requirement{kGroupKey, Check{RT::kGroup, Op::kDescribe, T::kEachKey}, kFailEntry, kGroupErr, std::nullopt},
    Requirement{kTransactionKey, Check{RT::kTransactionalId, Op::kDescribe, T::kEachKey}, kFailEntry, kTxnErr,
                std::nullopt},
};
constexpr std::array kGroupRead = {
    Requirement{kAlways, group(Op::kRead), kFailRequest, kGroupErr, std::nullopt},
};
constexpr std::array kDescribeGroups = {
    Requirement{kAlways, each_group(Op::kDescribe), kFailEntry, kGroupErr, std::nullopt},
};
constexpr std::array kListGroups = {
    Requirement{kAlways, each_group(Op::kDescribe), kOmitEntry, 0, cluster(Op::kDescribe)},
};
constexpr std::array kCreateTopics = {
    Requirement{kAlways, each_topic(Op::kCreate), kFailEntry, kTopicErr, cluster(Op::kCreate)},
    Requirement{kReturnConfigs, each_topic(Op::kDescribeConfigs), kWithholdDetail, kTopicErr, std::nullopt},
};
constexpr std::array kDeleteTopics = {
    Requirement{kTopicsById, each_topic(Op::kDescribe), kFailEntry, kTopicErr, std::nullopt},
    Requirement{kAlways, each_topic(Op::kDelete), kFailEntry, kTopicErr, cluster(Op::kDelete)},
};
constexpr std::array kDeleteRecords = {
    Requirement{kAlways, each_topic(Op::kDelete), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kInitProducerId = {
    Requirement{kTransactional, txn_id(Op::kWrite), kFailRequest, kTxnErr, std::nullopt},
    Requirement{kNotTransactional, cluster(Op::kIdempotentWrite), kFailRequest, kClusterErr,
                Check{RT::kTopic, Op::kWrite, T::kAnyTopic}},
};
constexpr std::array kOffsetForLeaderEpoch = {
    Requirement{kAlways, each_topic(Op::kDescribe), kFailEntry, kTopicErr, cluster(Op::kClusterAction)},
};
constexpr std::array kAddPartitionsToTxn = {
    Requirement{kFromBroker, cluster(Op::kClusterAction), kFailRequest, kClusterErr, std::nullopt},
    Requirement{kFromClient, txn_id(Op::kWrite), kFailRequest, kTxnErr, std::nullopt},
    Requirement{kFromClient, each_topic(Op::kWrite), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kAddOffsetsToTxn = {
    Requirement{kAlways, txn_id(Op::kWrite), kFailRequest, kTxnErr, std::nullopt},
    Requirement{kAlways, group(Op::kRead), kFailRequest, kGroupErr, std::nullopt},
};
constexpr std::array kEndTxn = {
    Requirement{kAlways, txn_id(Op::kWrite), kFailRequest, kTxnErr, std::nullopt},
};
constexpr std::array kWriteTxnMarkers = {
    Requirement{kAlways, cluster(Op::kClusterAction), kFailRequest, kClusterErr, cluster(Op::kAlter)},
};
constexpr std::array kTxnOffsetCommit = {
    Requirement{kAlways, txn_id(Op::kWrite), kFailRequest, kTxnErr, std::nullopt},
    Requirement{kAlways, group(Op::kRead), kFailRequest, kGroupErr, std::nullopt},
    Requirement{kAlways, each_topic(Op::kRead), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array<Requirement, 3> config_checks(Op op) {
  return std::array{
      Requirement{kTopicConfig, Check{RT::kTopic, op, T::kEachConfigResource}, kFailEntry, kTopicErr, std::nullopt},
      Requirement{kBrokerConfig, Check{RT::kCluster, op, T::kEachConfigResource}, kFailEntry, kClusterErr,
                  std::nullopt},
      Requirement{kGroupConfig, Check{RT::kGroup, op, T::kEachConfigResource}, kFailEntry, kGroupErr, std::nullopt},
  };
}
constexpr auto kDescribeConfigs = config_checks(Op::kDescribeConfigs);
constexpr auto kAlterConfigs = config_checks(Op::kAlterConfigs);
constexpr std::array kCreatePartitions = {
    Requirement{kAlways, each_topic(Op::kAlter), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kDeleteGroups = {
    Requirement{kAlways, each_group(Op::kDelete), kFailEntry, kGroupErr, std::nullopt},
};
constexpr std::array kOffsetDelete = {
    Requirement{kAlways, group(Op::kDelete), kFailRequest, kGroupErr, std::nullopt},
    Requirement{kAlways, each_topic(Op::kRead), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kDescribeCluster = {
    Requirement{kAuthorizedOperations, cluster(Op::kDescribe), kWithholdDetail, 0, std::nullopt},
};
constexpr std::array kDescribeProducers = {
    Requirement{kAlways, each_topic(Op::kRead), kFailEntry, kTopicErr, std::nullopt},
};
constexpr std::array kDescribeTransactions = {
    Requirement{kAlways, Check{RT::kTransactionalId, Op::kDescribe, T::kEachTransactionalId}, kFailEntry, kTxnErr,
                std::nullopt},
    // Of a described transaction, only the partitions of topics the principal may describe.
    Requirement{kAlways, each_topic(Op::kDescribe), kOmitEntry, 0, std::nullopt},
};
constexpr std::array kListTransactions = {
    Requirement{kAlways, Check{RT::kTransactionalId, Op::kDescribe, T::kEachTransactionalId}, kOmitEntry, 0,
                std::nullopt},
};
constexpr std::array kConsumerGroupHeartbeat = {
    Requirement{kAlways, group(Op::kRead), kFailRequest, kGroupErr, std::nullopt},
    Requirement{kSubscribedTopics, each_topic(Op::kDescribe), kFailRequest, kTopicErr, std::nullopt},
};
constexpr std::array kConsumerGroupDescribe = {
    Requirement{kAlways, each_group(Op::kDescribe), kFailEntry, kGroupErr, std::nullopt},
};
constexpr std::array kDescribeTopicPartitions = {
    Requirement{kNamedTopics, each_topic(Op::kDescribe), kFailEntry, kTopicErr, std::nullopt},
    Requirement{kAllTopics, each_topic(Op::kDescribe), kOmitEntry, 0, std::nullopt},
};

constexpr auto kClusterDescribe = cluster_only(Op::kDescribe);
constexpr auto kClusterAlter = cluster_only(Op::kAlter);
constexpr auto kClusterAction = cluster_only(Op::kClusterAction);
constexpr auto kClusterDescribeConfigs = cluster_only(Op::kDescribeConfigs);
constexpr auto kClusterAlterConfigs = cluster_only(Op::kAlterConfigs);

// Sorted by API key.
constexpr std::array kTable = {
    ApiRequirements{api::kProduce, "Produce", kProduce},
    ApiRequirements{api::kFetch, "Fetch", kFetch},
    ApiRequirements{api::kListOffsets, "ListOffsets", kListOffsets},
    ApiRequirements{api::kMetadata, "Metadata", kMetadata},
    ApiRequirements{api::kOffsetCommit, "OffsetCommit", kOffsetCommit},
    ApiRequirements{api::kOffsetFetch, "OffsetFetch", kOffsetFetch},
    ApiRequirements{api::kFindCoordinator, "FindCoordinator", kFindCoordinator},
    ApiRequirements{api::kJoinGroup, "JoinGroup", kGroupRead},
    ApiRequirements{api::kHeartbeat, "Heartbeat", kGroupRead},
    ApiRequirements{api::kLeaveGroup, "LeaveGroup", kGroupRead},
    ApiRequirements{api::kSyncGroup, "SyncGroup", kGroupRead},
    ApiRequirements{api::kDescribeGroups, "DescribeGroups", kDescribeGroups},
    ApiRequirements{api::kListGroups, "ListGroups", kListGroups},
    ApiRequirements{api::kCreateTopics, "CreateTopics", kCreateTopics},
    ApiRequirements{api::kDeleteTopics, "DeleteTopics", kDeleteTopics},
    ApiRequirements{api::kDeleteRecords, "DeleteRecords", kDeleteRecords},
    ApiRequirements{api::kInitProducerId, "InitProducerId", kInitProducerId},
    ApiRequirements{api::kOffsetForLeaderEpoch, "OffsetForLeaderEpoch", kOffsetForLeaderEpoch},
    ApiRequirements{api::kAddPartitionsToTxn, "AddPartitionsToTxn", kAddPartitionsToTxn},
    ApiRequirements{api::kAddOffsetsToTxn, "AddOffsetsToTxn", kAddOffsetsToTxn},
    ApiRequirements{api::kEndTxn, "EndTxn", kEndTxn},
    ApiRequirements{api::kWriteTxnMarkers, "WriteTxnMarkers", kWriteTxnMarkers},
    ApiRequirements{api::kTxnOffsetCommit, "TxnOffsetCommit", kTxnOffsetCommit},
    ApiRequirements{api::kDescribeAcls, "DescribeAcls", kClusterDescribe},
    ApiRequirements{api::kCreateAcls, "CreateAcls", kClusterAlter},
    ApiRequirements{api::kDeleteAcls, "DeleteAcls", kClusterAlter},
    ApiRequirements{api::kDescribeConfigs, "DescribeConfigs", kDescribeConfigs},
    ApiRequirements{api::kAlterConfigs, "AlterConfigs", kAlterConfigs},
    ApiRequirements{api::kAlterReplicaLogDirs, "AlterReplicaLogDirs", kClusterAlter},
    ApiRequirements{api::kDescribeLogDirs, "DescribeLogDirs", kClusterDescribe},
    ApiRequirements{api::kCreatePartitions, "CreatePartitions", kCreatePartitions},
    ApiRequirements{api::kDeleteGroups, "DeleteGroups", kDeleteGroups},
    ApiRequirements{api::kElectLeaders, "ElectLeaders", kClusterAlter},
    ApiRequirements{api::kIncrementalAlterConfigs, "IncrementalAlterConfigs", kAlterConfigs},
    ApiRequirements{api::kAlterPartitionReassignments, "AlterPartitionReassignments", kClusterAlter},
    ApiRequirements{api::kListPartitionReassignments, "ListPartitionReassignments", kClusterDescribe},
    ApiRequirements{api::kOffsetDelete, "OffsetDelete", kOffsetDelete},
    ApiRequirements{api::kDescribeClientQuotas, "DescribeClientQuotas", kClusterDescribeConfigs},
    ApiRequirements{api::kAlterClientQuotas, "AlterClientQuotas", kClusterAlterConfigs},
    ApiRequirements{api::kDescribeUserScramCredentials, "DescribeUserScramCredentials", kClusterDescribe},
    ApiRequirements{api::kAlterUserScramCredentials, "AlterUserScramCredentials", kClusterAlter},
    ApiRequirements{api::kDescribeQuorum, "DescribeQuorum", kClusterDescribe},
    ApiRequirements{api::kUpdateFeatures, "UpdateFeatures", kClusterAlter},
    ApiRequirements{api::kFetchSnapshot, "FetchSnapshot", kClusterAction},
    ApiRequirements{api::kDescribeCluster, "DescribeCluster", kDescribeCluster},
    ApiRequirements{api::kDescribeProducers, "DescribeProducers", kDescribeProducers},
    ApiRequirements{api::kBrokerRegistration, "BrokerRegistration", kClusterAction},
    ApiRequirements{api::kBrokerHeartbeat, "BrokerHeartbeat", kClusterAction},
    ApiRequirements{api::kUnregisterBroker, "UnregisterBroker", kClusterAlter},
    ApiRequirements{api::kDescribeTransactions, "DescribeTransactions", kDescribeTransactions},
    ApiRequirements{api::kListTransactions, "ListTransactions", kListTransactions},
    ApiRequirements{api::kAllocateProducerIds, "AllocateProducerIds", kClusterAction},
    ApiRequirements{api::kConsumerGroupHeartbeat, "ConsumerGroupHeartbeat", kConsumerGroupHeartbeat},
    ApiRequirements{api::kConsumerGroupDescribe, "ConsumerGroupDescribe", kConsumerGroupDescribe},
    ApiRequirements{api::kDescribeTopicPartitions, "DescribeTopicPartitions", kDescribeTopicPartitions},
    ApiRequirements{api::kAddRaftVoter, "AddRaftVoter", kClusterAlter},
    ApiRequirements{api::kRemoveRaftVoter, "RemoveRaftVoter", kClusterAlter},
};

constexpr bool sorted_by_key() {
  for (size_t i = 1; i < kTable.size(); ++i) {
    if (kTable[i - 1].api_key >= kTable[i].api_key) return false;
  }
  return true;
}
static_assert(sorted_by_key(), "kTable must be sorted by API key, each key once");

}  // namespace

const ApiRequirements* find_api_requirements(int16_t api_key) {
  auto it = std::lower_bound(kTable.begin(), kTable.end(), api_key,
                             [](const ApiRequirements& a, int16_t key) { return a.api_key < key; });
  return it != kTable.end() && it->api_key == api_key ? &*it : nullptr;
}

std::span<const ApiRequirements> all_api_requirements() { return kTable; }

std::optional<ConfigResourceCheck> config_resource_check(int8_t config_resource_type) {
  switch (config_resource_type) {
    case 2: return ConfigResourceCheck{ResourceType::kTopic, false, kTopicAuthorizationFailed};
    case 4:   // BROKER
    case 8:   // BROKER_LOGGER
    case 16:  // CLIENT_METRICS
      return ConfigResourceCheck{ResourceType::kCluster, true, kClusterAuthorizationFailed};
    case 32: return ConfigResourceCheck{ResourceType::kGroup, false, kGroupAuthorizationFailed};
    default: return std::nullopt;
  }
}

}  // namespace millrace::security::acl

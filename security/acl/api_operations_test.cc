// The table of which ACLs each API needs: spot checks against Kafka 4.1's
// handlers, and the table's own consistency.
#include "security/acl/api_operations.h"

#include <gtest/gtest.h>

namespace millrace::security::acl {
namespace {

using Op = AclOperation;
using RT = ResourceType;

const Requirement* find(int16_t api_key, When when, RT type) {
  const ApiRequirements* a = find_api_requirements(api_key);
  if (!a) return nullptr;
  for (const Requirement& r : a->requirements) {
    if (r.when == when && r.check.resource_type == type) return &r;
  }
  return nullptr;
}

TEST(ApiOperations, Produce) {
  const auto* a = find_api_requirements(api::kProduce);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->api_name, "Produce");
  const auto* txn = find(api::kProduce, When::kTransactional, RT::kTransactionalId);
  ASSERT_NE(txn, nullptr);
  EXPECT_EQ(txn->check.operation, Op::kWrite);
  EXPECT_EQ(txn->error_code, kTransactionalIdAuthorizationFailed);
  EXPECT_EQ(txn->on_denied, OnDenied::kFailRequest);
  const auto* topic = find(api::kProduce, When::kAlways, RT::kTopic);
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->check, (Check{RT::kTopic, Op::kWrite, Target::kEachTopic}));
  EXPECT_EQ(topic->on_denied, OnDenied::kFailEntry);
  EXPECT_EQ(topic->error_code, kTopicAuthorizationFailed);
  // Since Kafka 2.8 no IDEMPOTENT_WRITE check on Produce.
  for (const auto& r : a->requirements) EXPECT_NE(r.check.operation, Op::kIdempotentWrite);
}

TEST(ApiOperations, FetchReplicaNeedsClusterAction) {
  const auto* r = find(api::kFetch, When::kFromReplica, RT::kCluster);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->check.operation, Op::kClusterAction);
  const auto* c = find(api::kFetch, When::kFromConsumer, RT::kTopic);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->check.operation, Op::kRead);
}

TEST(ApiOperations, MetadataAutoCreateWaivedByClusterCreate) {
  const auto* r = find(api::kMetadata, When::kAutoCreate, RT::kTopic);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->check.operation, Op::kCreate);
  ASSERT_TRUE(r->unless);
  EXPECT_EQ(*r->unless, (Check{RT::kCluster, Op::kCreate, Target::kCluster}));
  EXPECT_EQ(find(api::kMetadata, When::kAllTopics, RT::kTopic)->on_denied, OnDenied::kOmitEntry);
}

TEST(ApiOperations, InitProducerIdIdempotent) {
  const auto* r = find(api::kInitProducerId, When::kNotTransactional, RT::kCluster);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->check.operation, Op::kIdempotentWrite);
  EXPECT_EQ(r->error_code, kClusterAuthorizationFailed);
  ASSERT_TRUE(r->unless);
  EXPECT_EQ(*r->unless, (Check{RT::kTopic, Op::kWrite, Target::kAnyTopic}));
}

TEST(ApiOperations, GroupApis) {
  for (int16_t key : {api::kJoinGroup, api::kSyncGroup, api::kHeartbeat, api::kLeaveGroup}) {
    const auto* r = find(key, When::kAlways, RT::kGroup);
    ASSERT_NE(r, nullptr) << key;
    EXPECT_EQ(r->check.operation, Op::kRead);
    EXPECT_EQ(r->error_code, kGroupAuthorizationFailed);
  }
  EXPECT_EQ(find(api::kOffsetCommit, When::kAlways, RT::kGroup)->check.operation, Op::kRead);
  EXPECT_EQ(find(api::kOffsetCommit, When::kAlways, RT::kTopic)->check.operation, Op::kRead);
  EXPECT_EQ(find(api::kOffsetFetch, When::kAlways, RT::kGroup)->check.operation, Op::kDescribe);
  EXPECT_EQ(find(api::kOffsetFetch, When::kNamedTopics, RT::kTopic)->check.operation, Op::kDescribe);
  EXPECT_EQ(find(api::kDescribeGroups, When::kAlways, RT::kGroup)->check.operation, Op::kDescribe);
  EXPECT_EQ(find(api::kDeleteGroups, When::kAlways, RT::kGroup)->check.operation, Op::kDelete);
  EXPECT_EQ(find(api::kOffsetDelete, When::kAlways, RT::kGroup)->check.operation, Op::kDelete);
  EXPECT_EQ(find(api::kOffsetDelete, When::kAlways, RT::kTopic)->check.operation, Op::kRead);
  const auto* list = find(api::kListGroups, When::kAlways, RT::kGroup);
  EXPECT_EQ(list->on_denied, OnDenied::kOmitEntry);
  EXPECT_EQ(*list->unless, (Check{RT::kCluster, Op::kDescribe, Target::kCluster}));
  const auto* hb = find(api::kConsumerGroupHeartbeat, When::kSubscribedTopics, RT::kTopic);
  ASSERT_NE(hb, nullptr);
  EXPECT_EQ(hb->check.operation, Op::kDescribe);
  EXPECT_EQ(hb->error_code, kTopicAuthorizationFailed);
}

TEST(ApiOperations, FindCoordinatorByKeyType) {
  EXPECT_EQ(find(api::kFindCoordinator, When::kGroupKey, RT::kGroup)->error_code, kGroupAuthorizationFailed);
  EXPECT_EQ(find(api::kFindCoordinator, When::kTransactionKey, RT::kTransactionalId)->error_code,
            kTransactionalIdAuthorizationFailed);
}

TEST(ApiOperations, TopicAdmin) {
  const auto* create = find(api::kCreateTopics, When::kAlways, RT::kTopic);
  EXPECT_EQ(create->check.operation, Op::kCreate);
  EXPECT_EQ(*create->unless, (Check{RT::kCluster, Op::kCreate, Target::kCluster}));
  EXPECT_EQ(find(api::kDeleteTopics, When::kAlways, RT::kTopic)->check.operation, Op::kDelete);
  EXPECT_EQ(find(api::kDeleteRecords, When::kAlways, RT::kTopic)->check.operation, Op::kDelete);
  EXPECT_EQ(find(api::kCreatePartitions, When::kAlways, RT::kTopic)->check.operation, Op::kAlter);
  EXPECT_EQ(find(api::kListOffsets, When::kAlways, RT::kTopic)->check.operation, Op::kDescribe);
  EXPECT_EQ(find(api::kDescribeProducers, When::kAlways, RT::kTopic)->check.operation, Op::kRead);
}

TEST(ApiOperations, Configs) {
  EXPECT_EQ(find(api::kDescribeConfigs, When::kTopicConfig, RT::kTopic)->check.operation, Op::kDescribeConfigs);
  EXPECT_EQ(find(api::kDescribeConfigs, When::kBrokerConfig, RT::kCluster)->error_code,
            kClusterAuthorizationFailed);
  for (int16_t key : {api::kAlterConfigs, api::kIncrementalAlterConfigs}) {
    EXPECT_EQ(find(key, When::kTopicConfig, RT::kTopic)->check.operation, Op::kAlterConfigs);
    EXPECT_EQ(find(key, When::kGroupConfig, RT::kGroup)->error_code, kGroupAuthorizationFailed);
  }
  EXPECT_EQ(config_resource_check(2)->resource_type, RT::kTopic);
  EXPECT_TRUE(config_resource_check(4)->cluster_resource);
  EXPECT_TRUE(config_resource_check(8)->cluster_resource);
  EXPECT_EQ(config_resource_check(32)->error_code, kGroupAuthorizationFailed);
  EXPECT_FALSE(config_resource_check(0));
  EXPECT_FALSE(config_resource_check(3));
}

TEST(ApiOperations, ClusterOnlyApis) {
  struct Case {
    int16_t key;
    Op op;
  };
  for (auto [key, op] : {Case{api::kDescribeAcls, Op::kDescribe}, Case{api::kCreateAcls, Op::kAlter},
                         Case{api::kDeleteAcls, Op::kAlter}, Case{api::kElectLeaders, Op::kAlter},
                         Case{api::kAlterPartitionReassignments, Op::kAlter},
                         Case{api::kListPartitionReassignments, Op::kDescribe},
                         Case{api::kDescribeLogDirs, Op::kDescribe},
                         Case{api::kAlterUserScramCredentials, Op::kAlter},
                         Case{api::kDescribeUserScramCredentials, Op::kDescribe},
                         Case{api::kDescribeQuorum, Op::kDescribe}}) {
    const auto* a = find_api_requirements(key);
    ASSERT_NE(a, nullptr) << key;
    ASSERT_EQ(a->requirements.size(), 1u) << key;
    const Requirement& r = a->requirements[0];
    EXPECT_EQ(r.check, (Check{RT::kCluster, op, Target::kCluster})) << a->api_name;
    EXPECT_EQ(r.on_denied, OnDenied::kFailRequest) << a->api_name;
    EXPECT_EQ(r.error_code, kClusterAuthorizationFailed) << a->api_name;
  }
}

TEST(ApiOperations, DescribeClusterOnlyGatesAuthorizedOperations) {
  const auto* r = find(api::kDescribeCluster, When::kAuthorizedOperations, RT::kCluster);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->check.operation, Op::kDescribe);
  EXPECT_EQ(r->on_denied, OnDenied::kWithholdDetail);
  EXPECT_EQ(find_api_requirements(api::kDescribeCluster)->requirements.size(), 1u);
}

TEST(ApiOperations, UncoveredKeys) {
  EXPECT_EQ(find_api_requirements(18), nullptr);  // ApiVersions
  EXPECT_EQ(find_api_requirements(17), nullptr);  // SaslHandshake
  EXPECT_EQ(find_api_requirements(36), nullptr);  // SaslAuthenticate
  EXPECT_EQ(find_api_requirements(-1), nullptr);
  EXPECT_EQ(find_api_requirements(1000), nullptr);
}

TEST(ApiOperations, TableIsConsistent) {
  for (const ApiRequirements& a : all_api_requirements()) {
    EXPECT_EQ(find_api_requirements(a.api_key), &a);
    EXPECT_FALSE(a.requirements.empty()) << a.api_name;
    for (const Requirement& r : a.requirements) {
      // The operation is one the resource type supports.
      EXPECT_TRUE(supported_operations(r.check.resource_type) & operation_bit(r.check.operation)) << a.api_name;
      // Cluster checks target the cluster; a failure has the error of its resource type.
      if (r.check.target == Target::kCluster) {
        EXPECT_EQ(r.check.resource_type, RT::kCluster) << a.api_name;
      }
      bool silent = r.on_denied == OnDenied::kOmitEntry ||
                    (r.on_denied == OnDenied::kWithholdDetail && r.check.resource_type == RT::kCluster);
      if (silent) {
        EXPECT_EQ(r.error_code, 0) << a.api_name;
      } else if (!(a.api_key == api::kFetch && r.when == When::kFromReplica)) {
        int16_t want = r.check.resource_type == RT::kTopic            ? kTopicAuthorizationFailed
                       : r.check.resource_type == RT::kGroup          ? kGroupAuthorizationFailed
                       : r.check.resource_type == RT::kCluster        ? kClusterAuthorizationFailed
                       : r.check.resource_type == RT::kTransactionalId ? kTransactionalIdAuthorizationFailed
                                                                       : -1;
        EXPECT_EQ(r.error_code, want) << a.api_name;
      }
      if (r.unless) {
        // (Not necessarily a supported operation: DeleteTopics accepts CLUSTER DELETE,
        // which only an ALL or DELETE binding on the cluster grants.)
        EXPECT_TRUE(r.unless->target == Target::kCluster || r.unless->target == Target::kAnyTopic);
      }
    }
  }
}

}  // namespace
}  // namespace millrace::security::acl

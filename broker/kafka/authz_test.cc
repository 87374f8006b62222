// The broker's authorizer as the handlers ask it: the config-resource checks of
// DescribeConfigs / AlterConfigs / IncrementalAlterConfigs, the
// cluster_authorized_operations rule of Metadata and DescribeCluster, audits
// and their counter. (The codes each API answers are checked end to end
// against Kafka 4.1.1 by tests/security/acl_matrix.py.)
#include "broker/kafka/authz.h"

#include <gtest/gtest.h>

#include "broker/metrics/broker_metrics.h"
#include "protocol/generated/api_keys.h"

namespace millrace::broker {
namespace {

using Op = acl::AclOperation;
using RT = acl::ResourceType;

constexpr int8_t kTopicConfig = 2, kBrokerConfig = 4, kBrokerLogger = 8, kClientMetrics = 16, kGroupConfig = 32;
constexpr int16_t kTopicDenied = 29, kGroupDenied = 30, kClusterDenied = 31;
constexpr const char* kStandard = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

class AuthzTest : public ::testing::Test {
 protected:
  void allow(RT type, std::string name, Op op, std::string principal = "User:alice",
             acl::PatternType pattern = acl::PatternType::kLiteral) {
    add(type, std::move(name), op, std::move(principal), pattern, acl::PermissionType::kAllow);
  }
  void deny(RT type, std::string name, Op op, std::string principal = "User:alice") {
    add(type, std::move(name), op, std::move(principal), acl::PatternType::kLiteral, acl::PermissionType::kDeny);
  }
  void add(RT type, std::string name, Op op, std::string principal, acl::PatternType pattern,
           acl::PermissionType permission) {
    cluster::records::AccessControlEntryRecord r;
    r.id.bytes[0] = static_cast<uint8_t>(++ids_);
    r.resource_type = static_cast<int8_t>(type);
    r.resource_name = std::move(name);
    r.pattern_type = static_cast<int8_t>(pattern);
    r.principal = std::move(principal);
    r.host = "*";
    r.operation = static_cast<int8_t>(op);
    r.permission_type = static_cast<int8_t>(permission);
    security_->acls.push_back(std::move(r));
  }
  // The image the requests read: a new version whenever the ACLs changed.
  const cluster::MetadataImage& image() {
    image_ = cluster::MetadataImage(++version_, "c", 1, {}, {});
    image_.set_security(std::make_shared<cluster::SecurityImage>(*security_));
    return image_;
  }
  double denials(std::string_view api, std::string_view resource) {
    return metrics_.authorization_denials(api, resource).Value();
  }

  BrokerMetrics metrics_{"test", [](int16_t key) { return proto::api_name(key); }};
  Authz authz_{kStandard, "User:admin", false, &metrics_};
  SecuritySession alice_ = [] {
    SecuritySession s;
    s.principal = "User:alice";
    s.host = "10.0.0.7";
    return s;
  }();
  std::shared_ptr<cluster::SecurityImage> security_ = std::make_shared<cluster::SecurityImage>();
  cluster::MetadataImage image_;
  uint64_t version_ = 0;
  int ids_ = 0;
};

TEST_F(AuthzTest, TopicConfigNeedsTheOperationOnTheTopic) {
  allow(RT::kTopic, "orders", Op::kDescribeConfigs);
  const auto& img = image();
  EXPECT_EQ(authz_.config_error(img, alice_, "DescribeConfigs", Op::kDescribeConfigs, kTopicConfig, "orders"), 0);
  EXPECT_EQ(authz_.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, kTopicConfig, "orders"),
            kTopicDenied);
  EXPECT_EQ(authz_.config_error(img, alice_, "DescribeConfigs", Op::kDescribeConfigs, kTopicConfig, "payments"),
            kTopicDenied);
}

TEST_F(AuthzTest, AlterConfigsImpliesDescribeConfigs) {
  allow(RT::kTopic, "orders", Op::kAlterConfigs);
  const auto& img = image();
  EXPECT_EQ(authz_.config_error(img, alice_, "DescribeConfigs", Op::kDescribeConfigs, kTopicConfig, "orders"), 0);
  EXPECT_EQ(authz_.config_error(img, alice_, "IncrementalAlterConfigs", Op::kAlterConfigs, kTopicConfig, "orders"),
            0);
}

TEST_F(AuthzTest, BrokerConfigsAreCheckedOnTheCluster) {
  allow(RT::kCluster, std::string(acl::kClusterName), Op::kDescribeConfigs);
  const auto& img = image();
  for (int8_t type : {kBrokerConfig, kBrokerLogger, kClientMetrics}) {
    // Whatever the broker id or name: the one cluster resource decides.
    EXPECT_EQ(authz_.config_error(img, alice_, "DescribeConfigs", Op::kDescribeConfigs, type, "1"), 0) << +type;
    EXPECT_EQ(authz_.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, type, "1"), kClusterDenied)
        << +type;
  }
}

TEST_F(AuthzTest, GroupConfigsAreCheckedOnTheGroup) {
  allow(RT::kGroup, "billing", Op::kAlterConfigs, "User:alice", acl::PatternType::kPrefixed);
  const auto& img = image();
  EXPECT_EQ(authz_.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, kGroupConfig, "billing-eu"), 0);
  EXPECT_EQ(authz_.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, kGroupConfig, "audit"),
            kGroupDenied);
}

TEST_F(AuthzTest, UnknownConfigTypeIsLeftToTheHandler) {
  const auto& img = image();
  EXPECT_EQ(authz_.config_error(img, alice_, "DescribeConfigs", Op::kDescribeConfigs, 3, "x"), 0);
  EXPECT_EQ(denials("DescribeConfigs", "TOPIC"), 0);
}

TEST_F(AuthzTest, DenyOverridesAllowOnAConfigResource) {
  allow(RT::kTopic, "orders", Op::kAll);
  deny(RT::kTopic, "orders", Op::kAlterConfigs);
  const auto& img = image();
  EXPECT_EQ(authz_.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, kTopicConfig, "orders"),
            kTopicDenied);
  EXPECT_EQ(authz_.config_error(img, alice_, "DescribeConfigs", Op::kDescribeConfigs, kTopicConfig, "orders"), 0);
}

TEST_F(AuthzTest, ConfigDenialIsCountedPerApiAndResource) {
  const auto& img = image();
  authz_.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, kTopicConfig, "orders");
  authz_.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, kBrokerConfig, "1");
  authz_.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, kBrokerConfig, "1");
  EXPECT_EQ(denials("AlterConfigs", "TOPIC"), 1);
  EXPECT_EQ(denials("AlterConfigs", "CLUSTER"), 2);
}

TEST_F(AuthzTest, ClusterOperationsNeedDescribe) {
  // CREATE does not imply DESCRIBE: Kafka reports 0, not the CREATE bit.
  allow(RT::kCluster, std::string(acl::kClusterName), Op::kCreate);
  EXPECT_EQ(authz_.cluster_operations(image(), alice_, "DescribeCluster"), 0);
  EXPECT_EQ(denials("DescribeCluster", "CLUSTER"), 1);
  allow(RT::kCluster, std::string(acl::kClusterName), Op::kAlter);  // implies DESCRIBE
  EXPECT_EQ(authz_.cluster_operations(image(), alice_, "DescribeCluster"),
            acl::operation_bit(Op::kCreate) | acl::operation_bit(Op::kAlter) | acl::operation_bit(Op::kDescribe));
}

TEST_F(AuthzTest, ClusterOperationsZeroWhenDescribeDenied) {
  allow(RT::kCluster, std::string(acl::kClusterName), Op::kAlter);
  deny(RT::kCluster, std::string(acl::kClusterName), Op::kDescribe);
  EXPECT_EQ(authz_.cluster_operations(image(), alice_, "Metadata"), 0);
}

TEST_F(AuthzTest, SuperUserHasEveryClusterOperation) {
  SecuritySession admin = alice_;
  admin.principal = "User:admin";
  const auto& img = image();
  EXPECT_EQ(authz_.cluster_operations(img, admin, "DescribeCluster"),
            acl::supported_operations(RT::kCluster));
  EXPECT_EQ(authz_.config_error(img, admin, "AlterConfigs", Op::kAlterConfigs, kBrokerConfig, "1"), 0);
}

TEST_F(AuthzTest, FilterIsNotAudited) {
  const auto& img = image();
  EXPECT_FALSE(authz_.allow(img, alice_, "ListGroups", Op::kDescribe, RT::kGroup, "g", false));
  EXPECT_EQ(denials("ListGroups", "GROUP"), 0);
  EXPECT_FALSE(authz_.allow(img, alice_, "DeleteGroups", Op::kDelete, RT::kGroup, "g"));
  EXPECT_EQ(denials("DeleteGroups", "GROUP"), 1);
}

TEST_F(AuthzTest, OffWithoutAnAuthorizer) {
  Authz off("", "", false, &metrics_);
  const auto& img = image();
  EXPECT_EQ(off.config_error(img, alice_, "AlterConfigs", Op::kAlterConfigs, kTopicConfig, "orders"), 0);
  EXPECT_EQ(off.cluster_operations(img, alice_, "DescribeCluster"), acl::supported_operations(RT::kCluster));
  EXPECT_TRUE(off.allow(img, alice_, "DeleteRecords", Op::kDelete, RT::kTopic, "orders"));
}

}  // namespace
}  // namespace millrace::broker

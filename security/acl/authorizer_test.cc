// The authorizer's rules, one case each: literal, wildcard and prefixed
// patterns, DENY over ALLOW, implied operations, super users, the
// no-ACL default both ways, host and principal matching, authorized
// operations, authorize_by_resource_type, listing, and index upkeep.
#include "security/acl/authorizer.h"

#include <gtest/gtest.h>

namespace millrace::security::acl {
namespace {

using Op = AclOperation;
using RT = ResourceType;
using PT = PatternType;
constexpr auto kAllow = PermissionType::kAllow;
constexpr auto kDeny = PermissionType::kDeny;

constexpr std::string_view kAlice = "User:alice";
constexpr std::string_view kBob = "User:bob";
constexpr std::string_view kHost = "10.0.0.7";

AclId id_of(int n) {
  AclId id{};
  id[0] = static_cast<uint8_t>(n);
  id[1] = static_cast<uint8_t>(n >> 8);
  return id;
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void allow(RT t, std::string name, PT pt, std::string principal, Op op, std::string host = "*") {
    az_.add(id_of(next_++), AclBinding{t, std::move(name), pt, std::move(principal), std::move(host), op, kAllow});
  }
  void deny(RT t, std::string name, PT pt, std::string principal, Op op, std::string host = "*") {
    az_.add(id_of(next_++), AclBinding{t, std::move(name), pt, std::move(principal), std::move(host), op, kDeny});
  }
  bool can(std::string_view principal, Op op, RT t, std::string_view name, std::string_view host = kHost) {
    return az_.authorize(principal, host, op, t, name).allowed;
  }
  bool topic(std::string_view principal, Op op, std::string_view name) { return can(principal, op, RT::kTopic, name); }

  Authorizer az_;
  int next_ = 1;
};

TEST_F(AuthorizerTest, LiteralAllowsOnlyThatName) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  EXPECT_TRUE(topic(kAlice, Op::kRead, "orders"));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "orders2"));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "order"));
  EXPECT_FALSE(topic(kAlice, Op::kWrite, "orders"));
  EXPECT_FALSE(topic(kBob, Op::kRead, "orders"));
}

TEST_F(AuthorizerTest, LiteralIsPerResourceType) {
  allow(RT::kGroup, "orders", PT::kLiteral, "User:alice", Op::kRead);
  EXPECT_TRUE(can(kAlice, Op::kRead, RT::kGroup, "orders"));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "orders"));
}

TEST_F(AuthorizerTest, WildcardNameAllowsEveryName) {
  allow(RT::kTopic, "*", PT::kLiteral, "User:alice", Op::kWrite);
  EXPECT_TRUE(topic(kAlice, Op::kWrite, "orders"));
  EXPECT_TRUE(topic(kAlice, Op::kWrite, "*"));
  EXPECT_TRUE(topic(kAlice, Op::kWrite, "x"));
  EXPECT_FALSE(can(kAlice, Op::kRead, RT::kGroup, "x"));
}

TEST_F(AuthorizerTest, PrefixedAllowsNamesStartingWithIt) {
  allow(RT::kTopic, "orders.", PT::kPrefixed, "User:alice", Op::kRead);
  EXPECT_TRUE(topic(kAlice, Op::kRead, "orders."));
  EXPECT_TRUE(topic(kAlice, Op::kRead, "orders.eu"));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "orders"));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "payments.orders.eu"));
}

TEST_F(AuthorizerTest, SeveralPrefixLengths) {
  allow(RT::kTopic, "a", PT::kPrefixed, "User:alice", Op::kRead);
  allow(RT::kTopic, "abc", PT::kPrefixed, "User:bob", Op::kRead);
  deny(RT::kTopic, "abcdef", PT::kPrefixed, "User:alice", Op::kRead);
  EXPECT_TRUE(topic(kAlice, Op::kRead, "abcde"));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "abcdefg"));
  EXPECT_TRUE(topic(kBob, Op::kRead, "abcdefg"));
  EXPECT_FALSE(topic(kBob, Op::kRead, "ab"));
}

TEST_F(AuthorizerTest, PrefixedAsteriskIsAPrefixNotAWildcard) {
  // Validation refuses it; fed anyway (older metadata), it means "names starting with *".
  allow(RT::kTopic, "*", PT::kPrefixed, "User:alice", Op::kRead);
  EXPECT_TRUE(topic(kAlice, Op::kRead, "*x"));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "x"));
}

TEST_F(AuthorizerTest, DenyOverridesAllow) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  deny(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  auto d = az_.authorize(kAlice, kHost, Op::kRead, RT::kTopic, "orders");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, Decision::Rule::kAcl);
  ASSERT_TRUE(d.binding);
  EXPECT_EQ(d.binding->permission, kDeny);
}

TEST_F(AuthorizerTest, DenyFromAnyPatternOverridesAllowFromAnother) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  deny(RT::kTopic, "ord", PT::kPrefixed, "User:alice", Op::kRead);
  EXPECT_FALSE(topic(kAlice, Op::kRead, "orders"));

  allow(RT::kTopic, "pay", PT::kPrefixed, "User:alice", Op::kRead);
  deny(RT::kTopic, "*", PT::kLiteral, "User:*", Op::kRead);
  EXPECT_FALSE(topic(kAlice, Op::kRead, "payments"));
}

TEST_F(AuthorizerTest, WildcardPrincipalDenyCoversEveryone) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kWrite);
  deny(RT::kTopic, "orders", PT::kLiteral, "User:*", Op::kWrite, "10.0.0.7");
  EXPECT_FALSE(topic(kAlice, Op::kWrite, "orders"));
  EXPECT_TRUE(can(kAlice, Op::kWrite, RT::kTopic, "orders", "10.0.0.8"));
}

TEST_F(AuthorizerTest, AllowAllCoversEveryOperation) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kAll);
  for (Op op : {Op::kRead, Op::kWrite, Op::kCreate, Op::kDelete, Op::kAlter, Op::kDescribe, Op::kDescribeConfigs,
                Op::kAlterConfigs}) {
    EXPECT_TRUE(topic(kAlice, op, "orders")) << name(op);
  }
}

TEST_F(AuthorizerTest, DenyAllDeniesEveryOperation) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kAll);
  deny(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kAll);
  for (Op op : {Op::kRead, Op::kWrite, Op::kDescribe, Op::kAlterConfigs}) {
    EXPECT_FALSE(topic(kAlice, op, "orders")) << name(op);
  }
}

TEST_F(AuthorizerTest, AllowReadWriteDeleteAlterImplyDescribe) {
  int n = 0;
  for (Op op : {Op::kRead, Op::kWrite, Op::kDelete, Op::kAlter}) {
    std::string t(1, static_cast<char>('a' + n++));
    allow(RT::kTopic, t, PT::kLiteral, "User:alice", op);
    EXPECT_TRUE(topic(kAlice, Op::kDescribe, t)) << name(op);
    EXPECT_FALSE(topic(kAlice, Op::kDescribeConfigs, t)) << name(op);
  }
}

TEST_F(AuthorizerTest, OtherAllowsDoNotImplyDescribe) {
  int n = 0;
  for (Op op : {Op::kCreate, Op::kDescribeConfigs, Op::kAlterConfigs}) {
    std::string t(1, static_cast<char>('a' + n++));
    allow(RT::kTopic, t, PT::kLiteral, "User:alice", op);
    EXPECT_FALSE(topic(kAlice, Op::kDescribe, t)) << name(op);
  }
}

TEST_F(AuthorizerTest, AllowAlterConfigsImpliesDescribeConfigs) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kAlterConfigs);
  EXPECT_TRUE(topic(kAlice, Op::kDescribeConfigs, "orders"));
  EXPECT_FALSE(topic(kAlice, Op::kDescribe, "orders"));
  EXPECT_FALSE(topic(kAlice, Op::kAlter, "orders"));
}

TEST_F(AuthorizerTest, ImpliedOperationsDoNotWorkBackwards) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kDescribe);
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kDescribeConfigs);
  EXPECT_FALSE(topic(kAlice, Op::kRead, "orders"));
  EXPECT_FALSE(topic(kAlice, Op::kAlterConfigs, "orders"));
}

TEST_F(AuthorizerTest, DenyOfImplyingOperationDoesNotDenyDescribe) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kDescribe);
  deny(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  deny(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kAlterConfigs);
  EXPECT_TRUE(topic(kAlice, Op::kDescribe, "orders"));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "orders"));
}

TEST_F(AuthorizerTest, DenyDescribeOverridesImpliedDescribe) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  deny(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kDescribe);
  EXPECT_FALSE(topic(kAlice, Op::kDescribe, "orders"));
  EXPECT_TRUE(topic(kAlice, Op::kRead, "orders"));
}

TEST_F(AuthorizerTest, SuperUserAllowedDespiteDeny) {
  az_.set_options(AuthorizerOptions{{"User:admin"}, false});
  deny(RT::kTopic, "*", PT::kLiteral, "User:*", Op::kAll);
  auto d = az_.authorize("User:admin", kHost, Op::kDelete, RT::kTopic, "orders");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule, Decision::Rule::kSuperUser);
  EXPECT_EQ(d.rule_text(), "SuperUser");
  EXPECT_FALSE(topic("User:admin2", Op::kDelete, "orders"));
  EXPECT_FALSE(topic("Group:admin", Op::kDelete, "orders"));  // principal type matters
}

TEST_F(AuthorizerTest, NoAclFoundDeniesByDefault) {
  auto d = az_.authorize(kAlice, kHost, Op::kRead, RT::kTopic, "orders");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, Decision::Rule::kNoAclFound);
  EXPECT_EQ(d.rule_text(), "DefaultDeny");
}

TEST_F(AuthorizerTest, NoAclFoundAllowsWhenConfigured) {
  az_.set_options(AuthorizerOptions{{}, true});
  auto d = az_.authorize(kAlice, kHost, Op::kRead, RT::kTopic, "orders");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule, Decision::Rule::kNoAclFound);
  EXPECT_EQ(d.rule_text(), "DefaultAllow");
}

TEST_F(AuthorizerTest, AclForSomeoneElseOnTheResourceDeniesEvenWithAllowEveryone) {
  az_.set_options(AuthorizerOptions{{}, true});
  allow(RT::kTopic, "orders", PT::kLiteral, "User:bob", Op::kRead);
  auto d = az_.authorize(kAlice, kHost, Op::kRead, RT::kTopic, "orders");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, Decision::Rule::kNoMatchingAllow);
  // Another resource has no ACL: allowed.
  EXPECT_TRUE(topic(kAlice, Op::kRead, "payments"));
  // A prefixed or wildcard binding counts as an ACL on the resource.
  allow(RT::kTopic, "pay", PT::kPrefixed, "User:bob", Op::kRead);
  EXPECT_FALSE(topic(kAlice, Op::kRead, "payments"));
  EXPECT_TRUE(topic(kAlice, Op::kRead, "refunds"));
  allow(RT::kGroup, "*", PT::kLiteral, "User:bob", Op::kRead);
  EXPECT_FALSE(can(kAlice, Op::kRead, RT::kGroup, "g1"));
}

TEST_F(AuthorizerTest, AclOnOtherOperationStillCountsAsAclOnResource) {
  az_.set_options(AuthorizerOptions{{}, true});
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kWrite);
  EXPECT_FALSE(topic(kAlice, Op::kRead, "orders"));
}

TEST_F(AuthorizerTest, HostMatching) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead, "10.0.0.7");
  EXPECT_TRUE(can(kAlice, Op::kRead, RT::kTopic, "orders", "10.0.0.7"));
  EXPECT_FALSE(can(kAlice, Op::kRead, RT::kTopic, "orders", "10.0.0.70"));
  EXPECT_FALSE(can(kAlice, Op::kRead, RT::kTopic, "orders", "*"));
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kWrite, "*");
  EXPECT_TRUE(can(kAlice, Op::kWrite, RT::kTopic, "orders", "192.168.1.1"));
  EXPECT_TRUE(can(kAlice, Op::kWrite, RT::kTopic, "orders", "0:0:0:0:0:0:0:1"));
}

TEST_F(AuthorizerTest, PrincipalWildcard) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:*", Op::kRead);
  EXPECT_TRUE(topic(kAlice, Op::kRead, "orders"));
  EXPECT_TRUE(topic(kBob, Op::kRead, "orders"));
  EXPECT_TRUE(topic("ServiceAccount:etl", Op::kRead, "orders"));  // Kafka: User:* matches any principal
  EXPECT_FALSE(topic(kAlice, Op::kWrite, "orders"));
}

TEST_F(AuthorizerTest, PrincipalMatchIsExact) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  EXPECT_FALSE(topic("User:Alice", Op::kRead, "orders"));
  EXPECT_FALSE(topic("User:alice2", Op::kRead, "orders"));
  EXPECT_FALSE(topic("Group:alice", Op::kRead, "orders"));
  allow(RT::kTopic, "orders", PT::kLiteral, "Group:*", Op::kWrite);
  EXPECT_FALSE(topic("Group:x", Op::kWrite, "orders"));  // only User:* is a wildcard
  EXPECT_TRUE(topic("Group:*", Op::kWrite, "orders"));
}

TEST_F(AuthorizerTest, ClusterResource) {
  allow(RT::kCluster, "kafka-cluster", PT::kLiteral, "User:alice", Op::kIdempotentWrite);
  EXPECT_TRUE(can(kAlice, Op::kIdempotentWrite, RT::kCluster, kClusterName));
  EXPECT_FALSE(can(kAlice, Op::kClusterAction, RT::kCluster, kClusterName));
}

TEST_F(AuthorizerTest, DecisionNamesTheAllowingBinding) {
  allow(RT::kTopic, "ord", PT::kPrefixed, "User:alice", Op::kRead);
  auto d = az_.authorize(kAlice, kHost, Op::kRead, RT::kTopic, "orders");
  ASSERT_TRUE(d.allowed);
  ASSERT_TRUE(d.binding);
  EXPECT_EQ(d.binding->resource_name, "ord");
  EXPECT_EQ(d.rule_text(),
            "MatchingAcl(acl=(pattern=ResourcePattern(resourceType=TOPIC, name=ord, patternType=PREFIXED), "
            "entry=(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)))");
}

TEST_F(AuthorizerTest, DecisionOutlivesRemoval) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  auto d = az_.authorize(kAlice, kHost, Op::kRead, RT::kTopic, "orders");
  az_.replace_all({});
  ASSERT_TRUE(d.binding);
  EXPECT_EQ(d.binding->resource_name, "orders");
}

TEST_F(AuthorizerTest, AuditMessage) {
  deny(RT::kTopic, "orders", PT::kLiteral, "User:bob", Op::kRead);
  auto d = az_.authorize(kBob, kHost, Op::kRead, RT::kTopic, "orders");
  EXPECT_EQ(audit_message(kBob, kHost, Op::kRead, RT::kTopic, "orders", d),
            "Principal = User:bob is Denied operation = READ from host = 10.0.0.7 on resource = "
            "Topic:LITERAL:orders based on rule MatchingAcl(acl=(pattern=ResourcePattern(resourceType=TOPIC, "
            "name=orders, patternType=LITERAL), entry=(principal=User:bob, host=*, operation=READ, "
            "permissionType=DENY)))");
  auto none = az_.authorize(kBob, kHost, Op::kAlter, RT::kTransactionalId, "tx");
  EXPECT_EQ(audit_message(kBob, kHost, Op::kAlter, RT::kTransactionalId, "tx", none),
            "Principal = User:bob is Denied operation = ALTER from host = 10.0.0.7 on resource = "
            "TransactionalId:LITERAL:tx based on rule DefaultDeny");
}

TEST_F(AuthorizerTest, AuthorizedOperations) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  allow(RT::kTopic, "ord", PT::kPrefixed, "User:alice", Op::kAlterConfigs);
  deny(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kDescribeConfigs);
  EXPECT_EQ(az_.authorized_operations(kAlice, kHost, RT::kTopic, "orders"),
            operation_bit(Op::kRead) | operation_bit(Op::kDescribe) | operation_bit(Op::kAlterConfigs));
  EXPECT_EQ(az_.authorized_operations(kBob, kHost, RT::kTopic, "orders"), 0);
}

TEST_F(AuthorizerTest, AuthorizedOperationsOfSuperUserAndAllowEveryone) {
  az_.set_options(AuthorizerOptions{{"User:admin"}, true});
  EXPECT_EQ(az_.authorized_operations("User:admin", kHost, RT::kCluster, kClusterName), 8096);
  EXPECT_EQ(az_.authorized_operations(kAlice, kHost, RT::kTopic, "no-acls"), 3576);
  EXPECT_EQ(az_.authorized_operations(kAlice, kHost, RT::kAny, "x"), 0);
}

TEST_F(AuthorizerTest, AuthorizeByResourceType) {
  EXPECT_FALSE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kTopic));
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kWrite);
  EXPECT_TRUE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kTopic));
  EXPECT_FALSE(az_.authorize_by_resource_type(kBob, kHost, Op::kWrite, RT::kTopic));
  EXPECT_FALSE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kGroup));
  // No implied operations: WRITE does not grant DESCRIBE here.
  EXPECT_FALSE(az_.authorize_by_resource_type(kAlice, kHost, Op::kDescribe, RT::kTopic));
  // A DENY of the same literal name cancels it, a prefixed DENY of a prefix too.
  deny(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kWrite);
  EXPECT_FALSE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kTopic));
  allow(RT::kTopic, "pay.", PT::kPrefixed, "User:alice", Op::kAll);
  EXPECT_TRUE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kTopic));
  deny(RT::kTopic, "pay", PT::kPrefixed, "User:*", Op::kWrite);
  EXPECT_FALSE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kTopic));
  allow(RT::kTopic, "*", PT::kLiteral, "User:alice", Op::kWrite);
  EXPECT_TRUE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kTopic));
  deny(RT::kTopic, "*", PT::kLiteral, "User:alice", Op::kWrite, "10.0.0.7");
  EXPECT_FALSE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kTopic));
  EXPECT_TRUE(az_.authorize_by_resource_type(kAlice, "10.0.0.8", Op::kWrite, RT::kTopic));
}

TEST_F(AuthorizerTest, AuthorizeByResourceTypeSuperUserAndDefault) {
  az_.set_options(AuthorizerOptions{{"User:admin"}, false});
  deny(RT::kTopic, "*", PT::kLiteral, "User:*", Op::kWrite);
  EXPECT_TRUE(az_.authorize_by_resource_type("User:admin", kHost, Op::kWrite, RT::kTopic));
  az_.set_options(AuthorizerOptions{{}, true});
  EXPECT_TRUE(az_.authorize_by_resource_type(kAlice, kHost, Op::kWrite, RT::kGroup));
}

TEST_F(AuthorizerTest, AddReplacesSameId) {
  EXPECT_TRUE(az_.add(id_of(1), AclBinding{RT::kTopic, "a", PT::kPrefixed, "User:alice", "*", Op::kRead, kAllow}));
  EXPECT_FALSE(az_.add(id_of(1), AclBinding{RT::kTopic, "b", PT::kLiteral, "User:alice", "*", Op::kRead, kAllow}));
  EXPECT_EQ(az_.size(), 1u);
  EXPECT_FALSE(topic(kAlice, Op::kRead, "abc"));
  EXPECT_TRUE(topic(kAlice, Op::kRead, "b"));
}

TEST_F(AuthorizerTest, RemoveUnindexes) {
  EXPECT_TRUE(az_.add(id_of(1), AclBinding{RT::kTopic, "a", PT::kPrefixed, "User:alice", "*", Op::kRead, kAllow}));
  EXPECT_TRUE(az_.add(id_of(2), AclBinding{RT::kTopic, "a", PT::kPrefixed, "User:bob", "*", Op::kRead, kAllow}));
  EXPECT_TRUE(az_.remove(id_of(1)));
  EXPECT_FALSE(az_.remove(id_of(1)));
  EXPECT_FALSE(topic(kAlice, Op::kRead, "abc"));
  EXPECT_TRUE(topic(kBob, Op::kRead, "abc"));
  EXPECT_TRUE(az_.remove(id_of(2)));
  EXPECT_EQ(az_.size(), 0u);
  auto d = az_.authorize(kBob, kHost, Op::kRead, RT::kTopic, "abc");
  EXPECT_EQ(d.rule, Decision::Rule::kNoAclFound);
}

TEST_F(AuthorizerTest, NonConcreteBindingsAreListedButNeverApply) {
  az_.set_options(AuthorizerOptions{{}, true});
  az_.add(id_of(1), AclBinding{RT::kAny, "orders", PT::kLiteral, "User:*", "*", Op::kAll, kDeny});
  az_.add(id_of(2), AclBinding{RT::kTopic, "orders", PT::kMatch, "User:*", "*", Op::kAll, kDeny});
  EXPECT_EQ(az_.size(), 2u);
  EXPECT_EQ(az_.acls(AclBindingFilter::any()).size(), 2u);
  EXPECT_TRUE(topic(kAlice, Op::kRead, "orders"));
  EXPECT_TRUE(az_.remove(id_of(1)));
}

TEST_F(AuthorizerTest, ListingForDescribeAndDelete) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);     // id 1
  allow(RT::kTopic, "ord", PT::kPrefixed, "User:bob", Op::kWrite);        // id 2
  deny(RT::kTopic, "*", PT::kLiteral, "User:*", Op::kDelete);             // id 3
  allow(RT::kGroup, "g", PT::kLiteral, "User:alice", Op::kRead);          // id 4
  AclBindingFilter f;
  f.resource_type = RT::kTopic;
  f.resource_name = "orders";
  f.pattern_type = PT::kMatch;
  auto found = az_.find(f);
  ASSERT_EQ(found.size(), 3u);
  // Ordered by resource type, then name.
  EXPECT_EQ(found[0].second.resource_name, "*");
  EXPECT_EQ(found[0].first, id_of(3));
  EXPECT_EQ(found[1].second.resource_name, "ord");
  EXPECT_EQ(found[2].second.resource_name, "orders");

  f = {};
  f.principal = "User:alice";
  auto acls = az_.acls(f);
  ASSERT_EQ(acls.size(), 2u);
  EXPECT_EQ(acls[0].resource_type, RT::kTopic);
  EXPECT_EQ(acls[1].resource_type, RT::kGroup);
}

TEST_F(AuthorizerTest, ReplaceAll) {
  allow(RT::kTopic, "orders", PT::kLiteral, "User:alice", Op::kRead);
  az_.replace_all({{id_of(9), AclBinding{RT::kTopic, "p", PT::kPrefixed, "User:bob", "*", Op::kRead, kAllow}}});
  EXPECT_EQ(az_.size(), 1u);
  EXPECT_FALSE(topic(kAlice, Op::kRead, "orders"));
  EXPECT_TRUE(topic(kBob, Op::kRead, "pq"));
}

}  // namespace
}  // namespace millrace::security::acl

// The ACL model: codes, CreateAcls validation with Kafka's messages, and the
// DescribeAcls/DeleteAcls filter.
#include "security/acl/acl.h"

#include <gtest/gtest.h>

namespace millrace::security::acl {
namespace {

AclBinding topic_read(std::string name = "orders", PatternType pt = PatternType::kLiteral) {
  return AclBinding{ResourceType::kTopic, std::move(name), pt, "User:alice", "*", AclOperation::kRead,
                    PermissionType::kAllow};
}

std::string error_of(const AclBinding& b) {
  auto e = validate_for_create(b);
  if (!e) return "";
  EXPECT_EQ(e->error_code, kInvalidRequest);
  return e->message;
}

TEST(AclCodes, KafkaNumbers) {
  EXPECT_EQ(static_cast<int>(ResourceType::kTransactionalId), 5);
  EXPECT_EQ(static_cast<int>(PatternType::kPrefixed), 4);
  EXPECT_EQ(static_cast<int>(AclOperation::kDescribeTokens), 14);
  EXPECT_EQ(static_cast<int>(PermissionType::kAllow), 3);
}

TEST(AclCodes, UnknownCodesDecodeToUnknown) {
  EXPECT_EQ(resource_type_from_code(7), ResourceType::kUser);
  EXPECT_EQ(resource_type_from_code(8), ResourceType::kUnknown);
  EXPECT_EQ(resource_type_from_code(-1), ResourceType::kUnknown);
  EXPECT_EQ(pattern_type_from_code(5), PatternType::kUnknown);
  EXPECT_EQ(operation_from_code(12), AclOperation::kIdempotentWrite);
  EXPECT_EQ(operation_from_code(15), AclOperation::kUnknown);
  EXPECT_EQ(permission_from_code(4), PermissionType::kUnknown);
}

TEST(AclCodes, Names) {
  EXPECT_EQ(name(ResourceType::kDelegationToken), "DELEGATION_TOKEN");
  EXPECT_EQ(name(PatternType::kMatch), "MATCH");
  EXPECT_EQ(name(AclOperation::kClusterAction), "CLUSTER_ACTION");
  EXPECT_EQ(name(PermissionType::kDeny), "DENY");
  EXPECT_EQ(name(static_cast<AclOperation>(99)), "UNKNOWN");
}

TEST(AclCodes, SupportedOperationsMatchKafkaBitFields) {
  // The values Kafka reports for a principal allowed everything.
  EXPECT_EQ(supported_operations(ResourceType::kTopic), 3576);
  EXPECT_EQ(supported_operations(ResourceType::kCluster), 8096);
  EXPECT_EQ(supported_operations(ResourceType::kGroup),
            operation_bit(AclOperation::kRead) | operation_bit(AclOperation::kDescribe) |
                operation_bit(AclOperation::kDelete) | operation_bit(AclOperation::kDescribeConfigs) |
                operation_bit(AclOperation::kAlterConfigs));
  EXPECT_EQ(supported_operations(ResourceType::kAny), 0);
}

TEST(AclBindingText, LikeKafka) {
  EXPECT_EQ(to_string(topic_read()),
            "(pattern=ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL), "
            "entry=(principal=User:alice, host=*, operation=READ, permissionType=ALLOW))");
}

TEST(ValidateForCreate, AcceptsLiteralPrefixedAndWildcard) {
  EXPECT_EQ(error_of(topic_read()), "");
  EXPECT_EQ(error_of(topic_read("orders.", PatternType::kPrefixed)), "");
  EXPECT_EQ(error_of(topic_read("*")), "");
  AclBinding c{ResourceType::kCluster, "kafka-cluster", PatternType::kLiteral, "User:*", "10.0.0.1",
               AclOperation::kAll, PermissionType::kDeny};
  EXPECT_EQ(error_of(c), "");
}

TEST(ValidateForCreate, ResourceType) {
  auto b = topic_read();
  b.resource_type = ResourceType::kAny;
  EXPECT_EQ(error_of(b), "Invalid resourceType ANY");
  b.resource_type = ResourceType::kUnknown;
  EXPECT_EQ(error_of(b), "Invalid resourceType UNKNOWN");
  b.resource_type = static_cast<ResourceType>(42);
  EXPECT_EQ(error_of(b), "Invalid resourceType UNKNOWN");
}

TEST(ValidateForCreate, PatternType) {
  for (auto pt : {PatternType::kAny, PatternType::kMatch, PatternType::kUnknown}) {
    EXPECT_EQ(error_of(topic_read("orders", pt)), "Invalid patternType " + std::string(name(pt)));
  }
}

TEST(ValidateForCreate, Operation) {
  auto b = topic_read();
  b.operation = AclOperation::kAny;
  EXPECT_EQ(error_of(b), "Invalid operation ANY");
  b.operation = AclOperation::kUnknown;
  EXPECT_EQ(error_of(b), "Invalid operation UNKNOWN");
}

TEST(ValidateForCreate, Permission) {
  auto b = topic_read();
  b.permission = PermissionType::kAny;
  EXPECT_EQ(error_of(b), "Invalid permissionType ANY");
  b.permission = PermissionType::kUnknown;
  EXPECT_EQ(error_of(b), "Invalid permissionType UNKNOWN");
}

TEST(ValidateForCreate, ClusterMustBeNamedKafkaCluster) {
  AclBinding b{ResourceType::kCluster, "my-cluster", PatternType::kLiteral, "User:alice", "*",
               AclOperation::kAlter, PermissionType::kAllow};
  EXPECT_EQ(error_of(b), "The only valid name for the CLUSTER resource is kafka-cluster");
  b.resource_name = "";
  EXPECT_EQ(error_of(b), "The only valid name for the CLUSTER resource is kafka-cluster");
  b.resource_name = "kafka-cluster";
  b.pattern_type = PatternType::kPrefixed;
  EXPECT_EQ(error_of(b), "");
}

TEST(ValidateForCreate, EmptyName) { EXPECT_EQ(error_of(topic_read("")), "Invalid empty resource name"); }

TEST(ValidateForCreate, WildcardOnlyLiteral) {
  EXPECT_EQ(error_of(topic_read("*", PatternType::kPrefixed)),
            "The wildcard resource name * is only valid with the LITERAL pattern type");
  EXPECT_EQ(error_of(topic_read("*x", PatternType::kPrefixed)), "");
}

TEST(ValidateForCreate, Principal) {
  auto b = topic_read();
  for (const char* p : {"alice", "", ":alice", "User:"}) {
    b.principal = p;
    EXPECT_EQ(error_of(b), "Invalid principal " + std::string(p) +
                               ": expected a string in format principalType:principalName")
        << p;
  }
  b.principal = "User:CN=alice,O=acme:x";
  EXPECT_EQ(error_of(b), "");
}

TEST(ValidateForCreate, FirstProblemReported) {
  AclBinding b{ResourceType::kAny, "", PatternType::kMatch, "bad", "*", AclOperation::kAny, PermissionType::kAny};
  EXPECT_EQ(error_of(b), "Invalid resourceType ANY");
}

TEST(FilterMatches, AnyMatchesEverything) {
  EXPECT_TRUE(matches(AclBindingFilter::any(), topic_read()));
  EXPECT_TRUE(matches(AclBindingFilter::any(), topic_read("x", PatternType::kPrefixed)));
}

TEST(FilterMatches, ResourceType) {
  AclBindingFilter f;
  f.resource_type = ResourceType::kGroup;
  EXPECT_FALSE(matches(f, topic_read()));
  f.resource_type = ResourceType::kTopic;
  EXPECT_TRUE(matches(f, topic_read()));
}

TEST(FilterMatches, LiteralFilterIsExact) {
  AclBindingFilter f;
  f.resource_name = "orders";
  f.pattern_type = PatternType::kLiteral;
  EXPECT_TRUE(matches(f, topic_read("orders")));
  EXPECT_FALSE(matches(f, topic_read("*")));
  EXPECT_FALSE(matches(f, topic_read("orders", PatternType::kPrefixed)));
  EXPECT_FALSE(matches(f, topic_read("ord", PatternType::kPrefixed)));
}

TEST(FilterMatches, PrefixedFilterIsExactPrefixedPattern) {
  AclBindingFilter f;
  f.resource_name = "ord";
  f.pattern_type = PatternType::kPrefixed;
  EXPECT_TRUE(matches(f, topic_read("ord", PatternType::kPrefixed)));
  EXPECT_FALSE(matches(f, topic_read("or", PatternType::kPrefixed)));
  EXPECT_FALSE(matches(f, topic_read("ord")));
}

TEST(FilterMatches, AnyPatternComparesNameExactly) {
  AclBindingFilter f;
  f.resource_name = "orders";
  f.pattern_type = PatternType::kAny;
  EXPECT_TRUE(matches(f, topic_read("orders")));
  EXPECT_TRUE(matches(f, topic_read("orders", PatternType::kPrefixed)));
  EXPECT_FALSE(matches(f, topic_read("*")));
  EXPECT_FALSE(matches(f, topic_read("ord", PatternType::kPrefixed)));
}

TEST(FilterMatches, MatchFindsWhatAppliesToTheName) {
  AclBindingFilter f;
  f.resource_name = "orders";
  f.pattern_type = PatternType::kMatch;
  EXPECT_TRUE(matches(f, topic_read("orders")));
  EXPECT_TRUE(matches(f, topic_read("*")));
  EXPECT_TRUE(matches(f, topic_read("ord", PatternType::kPrefixed)));
  EXPECT_TRUE(matches(f, topic_read("orders", PatternType::kPrefixed)));
  EXPECT_FALSE(matches(f, topic_read("orders2", PatternType::kPrefixed)));
  EXPECT_FALSE(matches(f, topic_read("order")));
}

TEST(FilterMatches, MatchWithoutNameMatchesAll) {
  AclBindingFilter f;
  f.pattern_type = PatternType::kMatch;
  EXPECT_TRUE(matches(f, topic_read("orders")));
  EXPECT_TRUE(matches(f, topic_read("x", PatternType::kPrefixed)));
}

TEST(FilterMatches, EntryFieldsCompareAsStrings) {
  AclBinding wildcard_principal = topic_read();
  wildcard_principal.principal = "User:*";
  AclBindingFilter f;
  f.principal = "User:alice";
  EXPECT_TRUE(matches(f, topic_read()));
  EXPECT_FALSE(matches(f, wildcard_principal));  // no wildcard expansion in filters
  f = {};
  f.host = "10.0.0.1";
  EXPECT_FALSE(matches(f, topic_read()));  // host "*"
  f.host = "*";
  EXPECT_TRUE(matches(f, topic_read()));
}

TEST(FilterMatches, OperationAndPermission) {
  AclBindingFilter f;
  f.operation = AclOperation::kWrite;
  EXPECT_FALSE(matches(f, topic_read()));
  f.operation = AclOperation::kRead;
  EXPECT_TRUE(matches(f, topic_read()));
  f.permission = PermissionType::kDeny;
  EXPECT_FALSE(matches(f, topic_read()));
  f.permission = PermissionType::kAllow;
  EXPECT_TRUE(matches(f, topic_read()));
  // ALL in a filter is the operation ALL, not every operation.
  f.operation = AclOperation::kAll;
  EXPECT_FALSE(matches(f, topic_read()));
}

TEST(FilterMatches, AtMostOne) {
  AclBindingFilter f{ResourceType::kTopic, "orders", PatternType::kLiteral, "User:alice", "*",
                     AclOperation::kRead, PermissionType::kAllow};
  EXPECT_TRUE(matches_at_most_one(f));
  f.pattern_type = PatternType::kMatch;
  EXPECT_FALSE(matches_at_most_one(f));
  f.pattern_type = PatternType::kLiteral;
  f.host.reset();
  EXPECT_FALSE(matches_at_most_one(f));
}

TEST(ValidateFilter, UnknownFields) {
  EXPECT_EQ(validate_filter(AclBindingFilter::any()), std::nullopt);
  AclBindingFilter f;
  f.pattern_type = PatternType::kUnknown;
  EXPECT_EQ(validate_filter(f), (AclError{kInvalidRequest, "Unknown patternFilter."}));
  f = {};
  f.resource_type = ResourceType::kUnknown;
  EXPECT_EQ(validate_filter(f)->message, "Unknown patternFilter.");
  f = {};
  f.operation = AclOperation::kUnknown;
  EXPECT_EQ(validate_filter(f)->message, "Unknown entryFilter.");
  f = {};
  f.permission = PermissionType::kUnknown;
  EXPECT_EQ(validate_filter(f)->message, "Unknown entryFilter.");
}

}  // namespace
}  // namespace millrace::security::acl

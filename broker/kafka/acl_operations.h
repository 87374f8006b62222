// What `include_*_authorized_operations` reports while Millrace has no
// authorizer: every operation allowed, as Kafka does without one
// (AuthHelper.authorizedOperations returns all the operations the resource
// type supports). A bit per Kafka AclOperation code:
//   READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
//   DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace millrace::broker {

enum class AclOperation : int8_t {
  kRead = 3, kWrite = 4, kCreate = 5, kDelete = 6, kAlter = 7, kDescribe = 8, kClusterAction = 9,
  kDescribeConfigs = 10, kAlterConfigs = 11, kIdempotentWrite = 12,
};

constexpr int32_t acl_operation_bits(std::initializer_list<AclOperation> ops) {
  int32_t bits = 0;
  for (auto op : ops) bits |= int32_t{1} << static_cast<int>(op);
  return bits;
}

// Kafka's AclEntry.supportedOperations(ResourceType.TOPIC)
inline constexpr int32_t kAllTopicOperations = acl_operation_bits(
    {AclOperation::kRead, AclOperation::kWrite, AclOperation::kCreate, AclOperation::kDescribe, AclOperation::kDelete,
     AclOperation::kAlter, AclOperation::kDescribeConfigs, AclOperation::kAlterConfigs});
// Kafka's AclEntry.supportedOperations(ResourceType.CLUSTER)
inline constexpr int32_t kAllClusterOperations = acl_operation_bits(
    {AclOperation::kCreate, AclOperation::kClusterAction, AclOperation::kDescribeConfigs, AclOperation::kAlterConfigs,
     AclOperation::kIdempotentWrite, AclOperation::kAlter, AclOperation::kDescribe});
static_assert(kAllTopicOperations == 3576 && kAllClusterOperations == 8096);

}  // namespace millrace::broker

// Kafka's ACL model, with Kafka's numeric codes (the ones CreateAcls,
// DescribeAcls, DeleteAcls and the metadata records AccessControlEntryRecord /
// RemoveAccessControlEntryRecord carry): resource types, pattern types,
// operations, permissions; an ACL binding ("principal P is allowed/denied
// operation O from host H on resources matching pattern R"); the checks
// CreateAcls applies to a new binding; and the filter DescribeAcls and
// DeleteAcls select bindings with. Pure values and functions, no I/O.
//
// A binding's pattern is LITERAL (one name, or "*" for every name of the type)
// or PREFIXED (every name that starts with it). Its principal is "Type:name"
// ("User:alice"; "User:*" is every principal), its host an IP address in the
// text form the broker compares with the client's, or "*" for every host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace millrace::security::acl {

enum class ResourceType : int8_t {
  kUnknown = 0, kAny = 1, kTopic = 2, kGroup = 3, kCluster = 4, kTransactionalId = 5, kDelegationToken = 6,
  kUser = 7,
};

enum class PatternType : int8_t { kUnknown = 0, kAny = 1, kMatch = 2, kLiteral = 3, kPrefixed = 4 };

enum class AclOperation : int8_t {
  kUnknown = 0, kAny = 1, kAll = 2, kRead = 3, kWrite = 4, kCreate = 5, kDelete = 6, kAlter = 7, kDescribe = 8,
  kClusterAction = 9, kDescribeConfigs = 10, kAlterConfigs = 11, kIdempotentWrite = 12, kCreateTokens = 13,
  kDescribeTokens = 14,
};

enum class PermissionType : int8_t { kUnknown = 0, kAny = 1, kDeny = 2, kAllow = 3 };

// Codes Kafka does not know decode to kUnknown, as Kafka's fromCode does.
ResourceType resource_type_from_code(int8_t code);
PatternType pattern_type_from_code(int8_t code);
AclOperation operation_from_code(int8_t code);
PermissionType permission_from_code(int8_t code);

// Kafka's enum names: "TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW", ...
std::string_view name(ResourceType t);
std::string_view name(PatternType t);
std::string_view name(AclOperation op);
std::string_view name(PermissionType p);

inline constexpr std::string_view kWildcard = "*";               // any resource name (LITERAL), any host
inline constexpr std::string_view kWildcardPrincipal = "User:*";  // any principal
inline constexpr std::string_view kClusterName = "kafka-cluster"; // the one CLUSTER resource

// Bit `code` set for each operation: the form of include_*_authorized_operations.
constexpr int32_t operation_bit(AclOperation op) { return int32_t{1} << static_cast<int>(op); }

// The operations an ACL on this resource type can grant (Kafka's
// AclEntry.supportedOperations), as bits; 0 for UNKNOWN and ANY.
//   TOPIC: READ WRITE CREATE DESCRIBE DELETE ALTER DESCRIBE_CONFIGS ALTER_CONFIGS
//   GROUP: READ DESCRIBE DELETE DESCRIBE_CONFIGS ALTER_CONFIGS
//   CLUSTER: CREATE CLUSTER_ACTION DESCRIBE_CONFIGS ALTER_CONFIGS IDEMPOTENT_WRITE ALTER DESCRIBE
//   TRANSACTIONAL_ID: DESCRIBE WRITE;  DELEGATION_TOKEN: DESCRIBE;  USER: CREATE_TOKENS DESCRIBE_TOKENS
int32_t supported_operations(ResourceType t);

struct AclBinding {
  ResourceType resource_type = ResourceType::kUnknown;
  std::string resource_name;
  PatternType pattern_type = PatternType::kLiteral;
  std::string principal;  // "User:alice"
  std::string host = "*";
  AclOperation operation = AclOperation::kUnknown;
  PermissionType permission = PermissionType::kUnknown;

  auto operator<=>(const AclBinding&) const = default;
};

// Kafka's AclBinding.toString, for logs:
// (pattern=ResourcePattern(resourceType=TOPIC, name=foo, patternType=LITERAL),
//  entry=(principal=User:alice, host=*, operation=READ, permissionType=ALLOW))
std::string to_string(const AclBinding& b);

// An error for one ACL creation or filter, as Kafka answers it per entry.
inline constexpr int16_t kInvalidRequest = 42;
struct AclError {
  int16_t error_code = kInvalidRequest;
  std::string message;
  bool operator==(const AclError&) const = default;
};

// CreateAcls' checks on one binding, in Kafka's order and words; nullopt when
// it may be created. All INVALID_REQUEST:
//   "Invalid resourceType ANY"          UNKNOWN or ANY resource type
//   "Invalid patternType MATCH"         anything but LITERAL or PREFIXED
//   "Invalid operation ANY"             UNKNOWN or ANY operation
//   "Invalid permissionType ANY"        anything but ALLOW or DENY
//   "The only valid name for the CLUSTER resource is kafka-cluster"
//   "Invalid empty resource name"
//   "Invalid principal alice: expected a string in format principalType:principalName"
// Millrace is stricter than Kafka 4.1 in two places, both for bindings that
// could only be mistakes: a principal needs a non-empty type and name (Kafka
// takes "User:" and, from a non-Java client, "alice", which its authorizer
// then cannot parse), and "*" is a wildcard only as a LITERAL name (Kafka
// takes PREFIXED "*", which grants the names that begin with an asterisk):
//   "The wildcard resource name * is only valid with the LITERAL pattern type"
std::optional<AclError> validate_for_create(const AclBinding& b);

// Selects bindings for DescribeAcls and DeleteAcls (Kafka's AclBindingFilter).
// ANY in an enum and nullopt in a string match every value. The name is
// compared according to pattern_type:
//   ANY                 bindings of any pattern type with exactly this name
//   LITERAL / PREFIXED  bindings of that pattern type with exactly this name
//   MATCH               the bindings that would apply to a resource of this
//                       name: LITERAL with this name or "*", PREFIXED with a
//                       prefix of it (without a name: every binding)
// Principal and host compare as strings: a "User:*" filter selects only the
// bindings written for "User:*", not every principal's.
struct AclBindingFilter {
  ResourceType resource_type = ResourceType::kAny;
  std::optional<std::string> resource_name;
  PatternType pattern_type = PatternType::kAny;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::kAny;
  PermissionType permission = PermissionType::kAny;

  static AclBindingFilter any() { return {}; }
  bool operator==(const AclBindingFilter&) const = default;
};

bool matches(const AclBindingFilter& f, const AclBinding& b);

// True when the filter selects at most one binding (no ANY, MATCH or null).
bool matches_at_most_one(const AclBindingFilter& f);

// The checks DeleteAcls (and DescribeAcls) apply to a filter: a filter with an
// UNKNOWN field selects nothing sensible. INVALID_REQUEST,
// "Unknown patternFilter." (resource or pattern type UNKNOWN) or
// "Unknown entryFilter." (operation or permission UNKNOWN).
std::optional<AclError> validate_filter(const AclBindingFilter& f);

}  // namespace millrace::security::acl

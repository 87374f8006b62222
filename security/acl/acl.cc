// Kafka's ACL model: code conversions, names, CreateAcls validation and the
// DescribeAcls/DeleteAcls filter (see acl.h).
#include "security/acl/acl.h"

#include <array>

namespace millrace::security::acl {

namespace {

constexpr std::array<std::string_view, 8> kResourceTypeNames = {
    "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"};
constexpr std::array<std::string_view, 5> kPatternTypeNames = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
constexpr std::array<std::string_view, 15> kOperationNames = {
    "UNKNOWN", "ANY",           "ALL",           "READ",          "WRITE",
    "CREATE",  "DELETE",        "ALTER",         "DESCRIBE",      "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS"};
constexpr std::array<std::string_view, 4> kPermissionNames = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

template <typename E, size_t N>
std::string_view lookup(const std::array<std::string_view, N>& names, E e) {
  auto i = static_cast<int>(e);
  return i >= 0 && static_cast<size_t>(i) < N ? names[i] : names[0];
}

template <typename E, size_t N>
E from_code(int8_t code) {
  return code >= 0 && static_cast<size_t>(code) < N ? static_cast<E>(code) : static_cast<E>(0);
}

// Kafka's principal form "Type:name" (split at the first colon).
bool valid_principal(std::string_view p) {
  auto colon = p.find(':');
  return colon != std::string_view::npos && colon > 0 && colon + 1 < p.size();
}

AclError invalid(std::string message) { return AclError{kInvalidRequest, std::move(message)}; }

}  // namespace

ResourceType resource_type_from_code(int8_t code) { return from_code<ResourceType, 8>(code); }
PatternType pattern_type_from_code(int8_t code) { return from_code<PatternType, 5>(code); }
AclOperation operation_from_code(int8_t code) { return from_code<AclOperation, 15>(code); }
PermissionType permission_from_code(int8_t code) { return from_code<PermissionType, 4>(code); }

std::string_view name(ResourceType t) { return lookup(kResourceTypeNames, t); }
std::string_view name(PatternType t) { return lookup(kPatternTypeNames, t); }
std::string_view name(AclOperation op) { return lookup(kOperationNames, op); }
std::string_view name(PermissionType p) { return lookup(kPermissionNames, p); }

int32_t supported_operations(ResourceType t) {
  using Op = AclOperation;
  auto bits = [](std::initializer_list<Op> ops) {
    int32_t b = 0;
    for (Op op : ops) b |= operation_bit(op);
    return b;
  };
  switch (t) {
    case ResourceType::kTopic:
      return bits({Op::kRead, Op::kWrite, Op::kCreate, Op::kDescribe, Op::kDelete, Op::kAlter, Op::kDescribeConfigs,
                   Op::kAlterConfigs});
    case ResourceType::kGroup:
      return bits({Op::kRead, Op::kDescribe, Op::kDelete, Op::kDescribeConfigs, Op::kAlterConfigs});
    case ResourceType::kCluster:
      return bits({Op::kCreate, Op::kClusterAction, Op::kDescribeConfigs, Op::kAlterConfigs, Op::kIdempotentWrite,
                   Op::kAlter, Op::kDescribe});
    case ResourceType::kTransactionalId:
      return bits({Op::kDescribe, Op::kWrite});
    case ResourceType::kDelegationToken:
      return bits({Op::kDescribe});
    case ResourceType::kUser:
      return bits({Op::kCreateTokens, Op::kDescribeTokens});
    default:
      return 0;
  }
}

std::string to_string(const AclBinding& b) {
  std::string s;
  s.reserve(160 + b.resource_name.size() + b.principal.size());
  s += "(pattern=ResourcePattern(resourceType=";
  s += name(b.resource_type);
  s += ", name=";
  s += b.resource_name;
  s += ", patternType=";
  s += name(b.pattern_type);
  s += "), entry=(principal=";
  s += b.principal;
  s += ", host=";
  s += b.host;
  s += ", operation=";
  s += name(b.operation);
  s += ", permissionType=";
  s += name(b.permission);
  s += "))";
  return s;
}

std::optional<AclError> validate_for_create(const AclBinding& b) {
  // (A value outside Kafka's codes is named UNKNOWN.)
  if (b.resource_type == ResourceType::kAny || name(b.resource_type) == "UNKNOWN") {
    return invalid("Invalid resourceType " + std::string(name(b.resource_type)));
  }
  if (b.pattern_type != PatternType::kLiteral && b.pattern_type != PatternType::kPrefixed) {
    return invalid("Invalid patternType " + std::string(name(b.pattern_type)));
  }
  if (b.operation == AclOperation::kAny || name(b.operation) == "UNKNOWN") {
    return invalid("Invalid operation " + std::string(name(b.operation)));
  }
  if (b.permission != PermissionType::kAllow && b.permission != PermissionType::kDeny) {
    return invalid("Invalid permissionType " + std::string(name(b.permission)));
  }
  if (b.resource_type == ResourceType::kCluster && b.resource_name != kClusterName) {
    return invalid("The only valid name for the CLUSTER resource is " + std::string(kClusterName));
  }
  if (b.resource_name.empty()) return invalid("Invalid empty resource name");
  if (b.resource_name == kWildcard && b.pattern_type != PatternType::kLiteral) {
    return invalid("The wildcard resource name * is only valid with the LITERAL pattern type");
  }
  if (!valid_principal(b.principal)) {
    return invalid("Invalid principal " + b.principal +
                   ": expected a string in format principalType:principalName");
  }
  return std::nullopt;
}

namespace {

bool pattern_matches(const AclBindingFilter& f, const AclBinding& b) {
  if (f.resource_type != ResourceType::kAny && f.resource_type != b.resource_type) return false;
  if (f.pattern_type != PatternType::kAny && f.pattern_type != PatternType::kMatch &&
      f.pattern_type != b.pattern_type) {
    return false;
  }
  if (!f.resource_name) return true;
  const std::string& want = *f.resource_name;
  if (f.pattern_type == PatternType::kAny || f.pattern_type == b.pattern_type) return want == b.resource_name;
  // MATCH: the bindings that apply to a resource named `want`.
  switch (b.pattern_type) {
    case PatternType::kLiteral:
      return want == b.resource_name || b.resource_name == kWildcard;
    case PatternType::kPrefixed:
      return want.starts_with(b.resource_name);
    default:
      return false;  // Kafka throws here; no such binding is ever created
  }
}

bool entry_matches(const AclBindingFilter& f, const AclBinding& b) {
  if (f.principal && *f.principal != b.principal) return false;
  if (f.host && *f.host != b.host) return false;
  if (f.operation != AclOperation::kAny && f.operation != b.operation) return false;
  return f.permission == PermissionType::kAny || f.permission == b.permission;
}

}  // namespace

bool matches(const AclBindingFilter& f, const AclBinding& b) { return pattern_matches(f, b) && entry_matches(f, b); }

bool matches_at_most_one(const AclBindingFilter& f) {
  return f.resource_type != ResourceType::kAny && f.resource_type != ResourceType::kUnknown && f.resource_name &&
         f.pattern_type != PatternType::kMatch && f.pattern_type != PatternType::kAny &&
         f.pattern_type != PatternType::kUnknown && f.principal && f.host && f.operation != AclOperation::kAny &&
         f.operation != AclOperation::kUnknown && f.permission != PermissionType::kAny &&
         f.permission != PermissionType::kUnknown;
}

std::optional<AclError> validate_filter(const AclBindingFilter& f) {
  if (f.resource_type == ResourceType::kUnknown || f.pattern_type == PatternType::kUnknown) {
    return invalid("Unknown patternFilter.");
  }
  if (f.operation == AclOperation::kUnknown || f.permission == PermissionType::kUnknown) {
    return invalid("Unknown entryFilter.");
  }
  return std::nullopt;
}

}  // namespace millrace::security::acl

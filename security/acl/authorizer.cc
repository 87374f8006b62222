// Kafka's ACL authorizer over an indexed set of bindings (see authorizer.h).
#include "security/acl/authorizer.h"

#include <algorithm>

namespace millrace::security::acl {

namespace {

enum class Match : uint8_t { kNone, kAllow, kDeny };

// Whether a binding that applies to the resource matches the request
// (StandardAuthorizerData.findResult): principal, host, then operation with
// the implied operations of an ALLOW.
Match match(const AclBinding& acl, std::string_view principal, std::string_view host, AclOperation op) {
  if (acl.principal != principal && acl.principal != kWildcardPrincipal) return Match::kNone;
  if (acl.host != kWildcard && acl.host != host) return Match::kNone;
  if (acl.operation != AclOperation::kAll) {
    if (acl.permission == PermissionType::kAllow) {
      switch (op) {
        case AclOperation::kDescribe:
          if (acl.operation != AclOperation::kDescribe && acl.operation != AclOperation::kRead &&
              acl.operation != AclOperation::kWrite && acl.operation != AclOperation::kDelete &&
              acl.operation != AclOperation::kAlter) {
            return Match::kNone;
          }
          break;
        case AclOperation::kDescribeConfigs:
          if (acl.operation != AclOperation::kDescribeConfigs && acl.operation != AclOperation::kAlterConfigs) {
            return Match::kNone;
          }
          break;
        default:
          if (acl.operation != op) return Match::kNone;
      }
    } else if (acl.operation != op) {
      return Match::kNone;
    }
  }
  // As Kafka: a binding that is not an ALLOW denies (only ALLOW and DENY are
  // ever created).
  return acl.permission == PermissionType::kAllow ? Match::kAllow : Match::kDeny;
}

// What the bindings seen so far say about one request.
struct Scan {
  std::string_view principal;
  std::string_view host;
  AclOperation op;
  bool resource_has_acls = false;
  std::shared_ptr<const AclBinding> allow;
  std::shared_ptr<const AclBinding> deny;

  template <typename Bucket>
  void visit(const Bucket& bucket) {
    for (const auto& e : bucket) {
      resource_has_acls = true;
      switch (match(*e.binding, principal, host, op)) {
        case Match::kDeny:
          deny = e.binding;
          return;
        case Match::kAllow:
          if (!allow) allow = e.binding;
          break;
        case Match::kNone:
          break;
      }
    }
  }
};

std::string_view resource_type_title(ResourceType t) {
  switch (t) {
    case ResourceType::kTopic: return "Topic";
    case ResourceType::kGroup: return "Group";
    case ResourceType::kCluster: return "Cluster";
    case ResourceType::kTransactionalId: return "TransactionalId";
    case ResourceType::kDelegationToken: return "DelegationToken";
    case ResourceType::kUser: return "User";
    case ResourceType::kAny: return "Any";
    default: return "Unknown";
  }
}

}  // namespace

std::string Decision::rule_text() const {
  switch (rule) {
    case Rule::kSuperUser: return "SuperUser";
    case Rule::kAcl: return binding ? "MatchingAcl(acl=" + to_string(*binding) + ")" : "MatchingAcl";
    case Rule::kNoAclFound: return allowed ? "DefaultAllow" : "DefaultDeny";
    case Rule::kNoMatchingAllow: return "NoMatchingAllow";
  }
  return "";
}

std::string audit_message(std::string_view principal, std::string_view host, AclOperation op, ResourceType type,
                          std::string_view resource_name, const Decision& d) {
  std::string s = "Principal = ";
  s += principal;
  s += d.allowed ? " is Allowed operation = " : " is Denied operation = ";
  s += name(op);
  s += " from host = ";
  s += host;
  s += " on resource = ";
  s += resource_type_title(type);
  s += ":LITERAL:";
  s += resource_name;
  s += " based on rule ";
  s += d.rule_text();
  return s;
}

size_t Authorizer::IdHash::operator()(const AclId& id) const noexcept {
  // Ids are random UUIDs; any mix of their bytes spreads them.
  size_t h = 0;
  for (uint8_t b : id) h = h * 131 + b;
  return h;
}

Authorizer::TypeIndex* Authorizer::index_for(const AclBinding& b) {
  auto t = static_cast<int>(b.resource_type);
  if (t < static_cast<int>(ResourceType::kTopic) || t >= static_cast<int>(kTypes)) return nullptr;
  if (b.pattern_type != PatternType::kLiteral && b.pattern_type != PatternType::kPrefixed) return nullptr;
  return &by_type_[t];
}

const Authorizer::TypeIndex* Authorizer::index_for(ResourceType type) const {
  auto t = static_cast<int>(type);
  if (t < static_cast<int>(ResourceType::kTopic) || t >= static_cast<int>(kTypes)) return nullptr;
  return &by_type_[t];
}

void Authorizer::index(const AclId& id, const std::shared_ptr<const AclBinding>& b) {
  TypeIndex* idx = index_for(*b);
  if (!idx) return;
  if (b->pattern_type == PatternType::kLiteral) {
    idx->literal[b->resource_name].push_back(Entry{id, b});
  } else {
    idx->prefixed[b->resource_name].push_back(Entry{id, b});
    ++idx->prefix_lengths[b->resource_name.size()];
  }
}

void Authorizer::unindex(const AclId& id, const AclBinding& b) {
  TypeIndex* idx = index_for(b);
  if (!idx) return;
  auto erase_from = [&id](Bucket& bucket) {
    auto it = std::find_if(bucket.begin(), bucket.end(), [&id](const Entry& e) { return e.id == id; });
    if (it == bucket.end()) return false;
    *it = std::move(bucket.back());
    bucket.pop_back();
    return true;
  };
  if (b.pattern_type == PatternType::kLiteral) {
    auto it = idx->literal.find(b.resource_name);
    if (it != idx->literal.end() && erase_from(it->second) && it->second.empty()) idx->literal.erase(it);
  } else {
    auto it = idx->prefixed.find(b.resource_name);
    if (it == idx->prefixed.end() || !erase_from(it->second)) return;
    if (it->second.empty()) idx->prefixed.erase(it);
    auto len = idx->prefix_lengths.find(b.resource_name.size());
    if (--len->second == 0) idx->prefix_lengths.erase(len);
  }
}

bool Authorizer::add(const AclId& id, AclBinding binding) {
  auto b = std::make_shared<const AclBinding>(std::move(binding));
  auto [it, inserted] = by_id_.try_emplace(id, b);
  if (!inserted) {
    unindex(id, *it->second);
    it->second = b;
  }
  index(id, b);
  return inserted;
}

bool Authorizer::remove(const AclId& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  unindex(id, *it->second);
  by_id_.erase(it);
  return true;
}

void Authorizer::replace_all(std::vector<std::pair<AclId, AclBinding>> bindings) {
  by_id_.clear();
  by_type_ = {};
  for (auto& [id, b] : bindings) add(id, std::move(b));
}

Decision Authorizer::authorize(std::string_view principal, std::string_view host, AclOperation op, ResourceType type,
                               std::string_view resource_name) const {
  if (options_.super_users.contains(principal)) return Decision{true, Decision::Rule::kSuperUser, nullptr};

  Scan scan{principal, host, op};
  if (const TypeIndex* idx = index_for(type)) {
    if (auto it = idx->literal.find(resource_name); it != idx->literal.end()) scan.visit(it->second);
    if (!scan.deny && resource_name != kWildcard) {
      if (auto it = idx->literal.find(kWildcard); it != idx->literal.end()) scan.visit(it->second);
    }
    for (auto [len, count] : idx->prefix_lengths) {
      if (scan.deny || len > resource_name.size()) break;
      if (auto it = idx->prefixed.find(resource_name.substr(0, len)); it != idx->prefixed.end()) {
        scan.visit(it->second);
      }
    }
  }

  if (scan.deny) return Decision{false, Decision::Rule::kAcl, std::move(scan.deny)};
  if (scan.allow) return Decision{true, Decision::Rule::kAcl, std::move(scan.allow)};
  if (!scan.resource_has_acls) {
    return Decision{options_.allow_everyone_if_no_acl_found, Decision::Rule::kNoAclFound, nullptr};
  }
  return Decision{false, Decision::Rule::kNoMatchingAllow, nullptr};
}

int32_t Authorizer::authorized_operations(std::string_view principal, std::string_view host, ResourceType type,
                                          std::string_view resource_name) const {
  const int32_t supported = supported_operations(type);
  int32_t allowed = 0;
  for (int code = 0; code < 32; ++code) {
    auto op = static_cast<AclOperation>(code);
    if ((supported & operation_bit(op)) && authorize(principal, host, op, type, resource_name).allowed) {
      allowed |= operation_bit(op);
    }
  }
  return allowed;
}

bool Authorizer::authorize_by_resource_type(std::string_view principal, std::string_view host, AclOperation op,
                                            ResourceType type) const {
  // Super users and allow_everyone_if_no_acl_found, as Kafka checks them:
  // through an ordinary check of a name no binding is expected to name.
  if (authorize(principal, host, op, type, "hardcode").allowed) return true;
  const TypeIndex* idx = index_for(type);
  if (!idx) return false;

  std::set<std::string_view> deny_literal, deny_prefixed, allow_literal, allow_prefixed;
  bool wildcard_allow = false;
  auto collect = [&](const Bucket& bucket) {
    for (const auto& e : bucket) {
      const AclBinding& b = *e.binding;
      if (b.host != host && b.host != kWildcard) continue;
      if (b.principal != principal && b.principal != kWildcardPrincipal) continue;
      if (b.operation != op && b.operation != AclOperation::kAll) continue;
      bool literal = b.pattern_type == PatternType::kLiteral;
      if (b.permission == PermissionType::kDeny) {
        if (literal && b.resource_name == kWildcard) return true;
        (literal ? deny_literal : deny_prefixed).insert(b.resource_name);
      } else if (b.permission == PermissionType::kAllow) {
        if (literal && b.resource_name == kWildcard) {
          wildcard_allow = true;
        } else {
          (literal ? allow_literal : allow_prefixed).insert(b.resource_name);
        }
      }
    }
    return false;
  };
  for (const auto& [name, bucket] : idx->literal) {
    if (collect(bucket)) return false;  // a LITERAL "*" DENY
  }
  for (const auto& [name, bucket] : idx->prefixed) {
    if (collect(bucket)) return false;
  }
  if (wildcard_allow) return true;

  auto dominated_by_prefix_deny = [&](std::string_view allowed) {
    for (size_t len = 1; len <= allowed.size(); ++len) {
      if (deny_prefixed.contains(allowed.substr(0, len))) return true;
    }
    return false;
  };
  for (std::string_view a : allow_literal) {
    if (!deny_literal.contains(a) && !dominated_by_prefix_deny(a)) return true;
  }
  for (std::string_view a : allow_prefixed) {
    if (!dominated_by_prefix_deny(a)) return true;
  }
  return false;
}

std::vector<std::pair<AclId, AclBinding>> Authorizer::find(const AclBindingFilter& filter) const {
  std::vector<std::pair<AclId, AclBinding>> out;
  for (const auto& [id, b] : by_id_) {
    if (matches(filter, *b)) out.emplace_back(id, *b);
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return std::tie(x.second, x.first) < std::tie(y.second, y.first);
  });
  return out;
}

std::vector<AclBinding> Authorizer::acls(const AclBindingFilter& filter) const {
  std::vector<AclBinding> out;
  for (auto& [id, b] : find(filter)) out.push_back(std::move(b));
  return out;
}

}  // namespace millrace::security::acl

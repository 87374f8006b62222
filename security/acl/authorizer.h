// Kafka's ACL authorizer (StandardAuthorizer's rules) over an in-memory set
// of bindings: may principal P, connected from host H, perform operation O
// on the resource (type, name)? Pure: the broker feeds it the cluster's ACLs
// (AccessControlEntryRecord adds a binding under its id,
// RemoveAccessControlEntryRecord removes the id, a snapshot replaces all) and
// asks it per request.
//
// The rules, in order:
//   1. A super user (super.users, "User:admin") is allowed everything.
//   2. The bindings that apply to the resource are the LITERAL ones with its
//      name, the LITERAL "*" of its type and the PREFIXED ones whose name is
//      a prefix of it. Of those, a binding matches the request when its
//      principal is P or "User:*", its host is H or "*", and its operation
//      covers O: ALL covers every operation; an ALLOW of READ, WRITE, DELETE
//      or ALTER also covers DESCRIBE, an ALLOW of ALTER_CONFIGS also covers
//      DESCRIBE_CONFIGS; a DENY covers only its own operation (or ALL).
//   3. A matching DENY denies, whatever else matches.
//   4. Else a matching ALLOW allows.
//   5. Else, when no binding applies to the resource at all (for any
//      principal, host or operation), allow_everyone_if_no_acl_found decides.
//   6. Else deny.
//
// Lookup cost: a hash lookup for the literal name and for "*", and one ordered
// map lookup per distinct length of the PREFIXED names of that resource type
// (bounded by the name's length); then only the bindings of those buckets.
//
// Not thread-safe: one thread mutates it and queries it, or the caller
// serialises access (the broker may keep a copy per core and apply records to
// each). Decisions hold a shared reference to the deciding binding and stay
// valid after the authorizer changes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "security/acl/acl.h"

namespace millrace::security::acl {

// The id the metadata log gives each binding (AccessControlEntryRecord.Id).
using AclId = std::array<uint8_t, 16>;

struct AuthorizerOptions {
  std::set<std::string, std::less<>> super_users;  // super.users: "User:admin", ...
  bool allow_everyone_if_no_acl_found = false;      // allow.everyone.if.no.acl.found
};

// The outcome of one authorization, with what decided it (for audit logs).
struct Decision {
  enum class Rule : uint8_t {
    kSuperUser,       // the principal is a super user
    kAcl,             // `binding` decided: a DENY that matched, or else an ALLOW
    kNoAclFound,      // no binding applies to the resource: allow_everyone_if_no_acl_found
    kNoMatchingAllow, // bindings apply to the resource, none allows this request
  };
  bool allowed = false;
  Rule rule = Rule::kNoMatchingAllow;
  std::shared_ptr<const AclBinding> binding;  // set when rule == kAcl

  // Kafka's rule text: "SuperUser", "MatchingAcl(acl=...)", "DefaultAllow" /
  // "DefaultDeny" (no ACL found), "NoMatchingAllow".
  std::string rule_text() const;
};

// Kafka's audit line, for logging a denial (or an allow at debug level):
// "Principal = User:bob is Denied operation = READ from host = 10.0.0.7 on
//  resource = Topic:LITERAL:orders based on rule MatchingAcl(acl=...)"
std::string audit_message(std::string_view principal, std::string_view host, AclOperation op, ResourceType type,
                          std::string_view resource_name, const Decision& d);

class Authorizer {
 public:
  Authorizer() = default;
  explicit Authorizer(AuthorizerOptions options) : options_(std::move(options)) {}

  const AuthorizerOptions& options() const { return options_; }
  void set_options(AuthorizerOptions options) { options_ = std::move(options); }

  // Adds the binding under `id`, replacing the one the id had (a replayed
  // record). Returns false when it replaced one. A binding whose resource type
  // or pattern type is not concrete (UNKNOWN, ANY, MATCH) is kept and listed
  // but never applies to a request.
  bool add(const AclId& id, AclBinding binding);
  // Removes the binding with this id; false when there was none.
  bool remove(const AclId& id);
  // Replaces every binding (loading a metadata snapshot).
  void replace_all(std::vector<std::pair<AclId, AclBinding>> bindings);
  size_t size() const { return by_id_.size(); }

  // REQUIRES: `op` is a concrete operation (not UNKNOWN, ANY or ALL).
  // `principal` is "Type:name" as in the bindings; `host` is the client's IP
  // address in the text form the bindings use (Java's getHostAddress:
  // "10.0.0.7", "0:0:0:0:0:0:0:1").
  Decision authorize(std::string_view principal, std::string_view host, AclOperation op, ResourceType type,
                     std::string_view resource_name) const;

  // The operations of the resource's type (supported_operations) that
  // authorize() allows, a bit per operation code: the value of Metadata's,
  // DescribeGroups' and DescribeCluster's *_authorized_operations.
  int32_t authorized_operations(std::string_view principal, std::string_view host, ResourceType type,
                                std::string_view resource_name) const;

  // Kafka's authorizeByResourceType: is `op` allowed on at least one resource
  // of this type, whatever its name (InitProducerId of an idempotent producer
  // asks for WRITE on any topic)? Allowed when authorize() allows the name
  // "hardcode" (super users, allow_everyone_if_no_acl_found), or some ALLOW of
  // exactly `op` or ALL for the principal and host is not overridden by a DENY:
  // a LITERAL "*" ALLOW, or a LITERAL or PREFIXED ALLOW without a DENY of the
  // same LITERAL name or of a PREFIXED prefix of its name. A LITERAL "*" DENY
  // denies. Implied operations do not apply. Scans the type's bindings.
  // REQUIRES: `op` concrete, `type` concrete.
  bool authorize_by_resource_type(std::string_view principal, std::string_view host, AclOperation op,
                                  ResourceType type) const;

  // The bindings the filter selects (DescribeAcls), ordered by resource type,
  // name, pattern type, principal, host, operation, permission.
  std::vector<AclBinding> acls(const AclBindingFilter& filter) const;
  // The same with their ids (DeleteAcls turns them into removal records).
  std::vector<std::pair<AclId, AclBinding>> find(const AclBindingFilter& filter) const;

 private:
  struct Entry {
    AclId id;
    std::shared_ptr<const AclBinding> binding;
  };
  using Bucket = std::vector<Entry>;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct IdHash {
    size_t operator()(const AclId& id) const noexcept;
  };
  // The bindings of one resource type, by pattern.
  struct TypeIndex {
    std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> literal;  // "*" included
    std::map<std::string, Bucket, std::less<>> prefixed;
    std::map<size_t, size_t> prefix_lengths;  // name length -> number of PREFIXED bindings of that length
  };
  static constexpr size_t kTypes = 8;

  TypeIndex* index_for(const AclBinding& b);
  const TypeIndex* index_for(ResourceType type) const;
  void index(const AclId& id, const std::shared_ptr<const AclBinding>& b);
  void unindex(const AclId& id, const AclBinding& b);

  AuthorizerOptions options_;
  std::unordered_map<AclId, std::shared_ptr<const AclBinding>, IdHash> by_id_;
  std::array<TypeIndex, kTypes> by_type_;
};

}  // namespace millrace::security::acl

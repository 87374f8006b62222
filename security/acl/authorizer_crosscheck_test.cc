// The indexed Authorizer against a brute-force reference written straight
// from the rules in authorizer.h: random bindings (small alphabets, so names,
// prefixes, principals and hosts collide often), random additions and
// removals, random queries; fixed seeds.
#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "security/acl/authorizer.h"

namespace millrace::security::acl {
namespace {

using Op = AclOperation;
using RT = ResourceType;
using PT = PatternType;

struct Reference {
  std::vector<std::pair<AclId, AclBinding>> bindings;
  AuthorizerOptions options;

  static bool applies(const AclBinding& b, RT type, std::string_view name) {
    if (b.resource_type != type) return false;
    if (b.pattern_type == PT::kLiteral) return b.resource_name == name || b.resource_name == "*";
    if (b.pattern_type == PT::kPrefixed) return name.starts_with(b.resource_name);
    return false;
  }
  static bool who_and_where(const AclBinding& b, std::string_view principal, std::string_view host) {
    return (b.principal == principal || b.principal == "User:*") && (b.host == "*" || b.host == host);
  }
  static bool covers(const AclBinding& b, Op op) {
    if (b.operation == Op::kAll || b.operation == op) return true;
    if (b.permission != PermissionType::kAllow) return false;
    if (op == Op::kDescribe) {
      return b.operation == Op::kRead || b.operation == Op::kWrite || b.operation == Op::kDelete ||
             b.operation == Op::kAlter;
    }
    return op == Op::kDescribeConfigs && b.operation == Op::kAlterConfigs;
  }

  // allowed, rule
  std::pair<bool, Decision::Rule> authorize(std::string_view principal, std::string_view host, Op op, RT type,
                                            std::string_view name) const {
    if (options.super_users.contains(principal)) return {true, Decision::Rule::kSuperUser};
    bool any_applies = false, any_allow = false, any_deny = false;
    for (const auto& [id, b] : bindings) {
      if (!applies(b, type, name)) continue;
      any_applies = true;
      if (!who_and_where(b, principal, host) || !covers(b, op)) continue;
      (b.permission == PermissionType::kDeny ? any_deny : any_allow) = true;
    }
    if (any_deny) return {false, Decision::Rule::kAcl};
    if (any_allow) return {true, Decision::Rule::kAcl};
    if (!any_applies) return {options.allow_everyone_if_no_acl_found, Decision::Rule::kNoAclFound};
    return {false, Decision::Rule::kNoMatchingAllow};
  }

  bool by_resource_type(std::string_view principal, std::string_view host, Op op, RT type) const {
    if (authorize(principal, host, op, type, "hardcode").first) return true;
    auto relevant = [&](const AclBinding& b) {
      return b.resource_type == type && who_and_where(b, principal, host) &&
             (b.operation == op || b.operation == Op::kAll);
    };
    auto is_deny = [](const AclBinding& b) { return b.permission == PermissionType::kDeny; };
    for (const auto& [id, b] : bindings) {
      if (relevant(b) && is_deny(b) && b.pattern_type == PT::kLiteral && b.resource_name == "*") return false;
    }
    for (const auto& [id, a] : bindings) {
      if (!relevant(a) || a.permission != PermissionType::kAllow) continue;
      if (a.pattern_type == PT::kLiteral && a.resource_name == "*") return true;
      bool dominated = false;
      for (const auto& [id2, d] : bindings) {
        if (!relevant(d) || !is_deny(d)) continue;
        if (a.pattern_type == PT::kLiteral && d.pattern_type == PT::kLiteral && d.resource_name == a.resource_name) {
          dominated = true;
        }
        if (d.pattern_type == PT::kPrefixed && !d.resource_name.empty() &&
            std::string_view(a.resource_name).starts_with(d.resource_name)) {
          dominated = true;
        }
      }
      if (!dominated) return true;
    }
    return false;
  }
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  std::string name() {
    static constexpr char kAlphabet[] = {'a', 'b', '*'};
    std::string s(pick(1, 3), ' ');
    for (char& c : s) c = kAlphabet[pick(0, 2)];
    return s;
  }
  RT type() { return static_cast<RT>(pick(2, 4)); }  // TOPIC, GROUP, CLUSTER
  Op op() { return static_cast<Op>(pick(2, 14)); }   // ALL .. DESCRIBE_TOKENS
  Op query_op() { return static_cast<Op>(pick(3, 14)); }
  std::string principal() {
    static const char* kPrincipals[] = {"User:alice", "User:bob", "User:*", "Group:alice"};
    return kPrincipals[pick(0, 3)];
  }
  std::string query_principal() {
    static const char* kPrincipals[] = {"User:alice", "User:bob", "User:carol", "Group:alice", "User:admin"};
    return kPrincipals[pick(0, 4)];
  }
  std::string host() {
    static const char* kHosts[] = {"*", "h1", "h2"};
    return kHosts[pick(0, 2)];
  }
  std::string query_host() {
    static const char* kHosts[] = {"h1", "h2", "h3"};
    return kHosts[pick(0, 2)];
  }
  AclBinding binding() {
    return AclBinding{type(), name(), pick(0, 1) ? PT::kLiteral : PT::kPrefixed, principal(), host(), op(),
                      pick(0, 3) == 0 ? PermissionType::kDeny : PermissionType::kAllow};
  }
  AclId id() {
    AclId id;
    for (auto& b : id) b = static_cast<uint8_t>(pick(0, 255));
    return id;
  }
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::mt19937 rng_;
};

void cross_check(uint32_t seed, int n_bindings, int n_queries) {
  Generator g(seed);
  Reference ref;
  ref.options.allow_everyone_if_no_acl_found = g.pick(0, 1) == 1;
  if (g.pick(0, 1)) ref.options.super_users = {"User:admin"};
  Authorizer az(ref.options);

  for (int i = 0; i < n_bindings; ++i) {
    int action = g.pick(0, 9);
    if (action == 0 && !ref.bindings.empty()) {  // remove
      size_t k = static_cast<size_t>(g.pick(0, static_cast<int>(ref.bindings.size()) - 1));
      ASSERT_TRUE(az.remove(ref.bindings[k].first));
      ref.bindings.erase(ref.bindings.begin() + static_cast<long>(k));
    } else if (action == 1 && !ref.bindings.empty()) {  // replace under an existing id
      size_t k = static_cast<size_t>(g.pick(0, static_cast<int>(ref.bindings.size()) - 1));
      ref.bindings[k].second = g.binding();
      ASSERT_FALSE(az.add(ref.bindings[k].first, ref.bindings[k].second));
    } else {
      ref.bindings.emplace_back(g.id(), g.binding());
      ASSERT_TRUE(az.add(ref.bindings.back().first, ref.bindings.back().second));
    }
  }
  ASSERT_EQ(az.size(), ref.bindings.size());

  for (int q = 0; q < n_queries; ++q) {
    std::string principal = g.query_principal();
    std::string host = g.query_host();
    Op op = g.query_op();
    RT type = g.type();
    std::string name = type == RT::kCluster && g.pick(0, 1) ? std::string(kClusterName) : g.name();
    if (!ref.bindings.empty() && g.pick(0, 1)) {
      // Aim at an existing binding (its resource, maybe extended; often its principal, host, operation)
      // so that ACL decisions are common, not only "no ACL found".
      size_t k = static_cast<size_t>(g.pick(0, static_cast<int>(ref.bindings.size()) - 1));
      const AclBinding& b = ref.bindings[k].second;
      type = b.resource_type;
      name = b.resource_name;
      if (g.pick(0, 1)) name += g.name();
      if (g.pick(0, 1) && b.principal != "User:*") principal = b.principal;
      if (g.pick(0, 1) && b.host != "*") host = b.host;
      if (g.pick(0, 1) && b.operation != Op::kAll) op = b.operation;
    }

    auto d = az.authorize(principal, host, op, type, name);
    auto [allowed, rule] = ref.authorize(principal, host, op, type, name);
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " query " << q << ": " << principal << " " << host
                                      << " " << acl::name(op) << " " << acl::name(type) << ":" << name);
    ASSERT_EQ(d.allowed, allowed);
    ASSERT_EQ(d.rule, rule);
    if (d.rule == Decision::Rule::kAcl) {
      // The deciding binding applies, matches, and has the decision's permission.
      ASSERT_TRUE(d.binding);
      EXPECT_TRUE(Reference::applies(*d.binding, type, name));
      EXPECT_TRUE(Reference::who_and_where(*d.binding, principal, host));
      EXPECT_TRUE(Reference::covers(*d.binding, op));
      EXPECT_EQ(d.binding->permission == PermissionType::kAllow, d.allowed);
    }

    int32_t want_ops = 0;
    for (int code = 3; code <= 14; ++code) {
      auto o = static_cast<Op>(code);
      if ((supported_operations(type) & operation_bit(o)) && ref.authorize(principal, host, o, type, name).first) {
        want_ops |= operation_bit(o);
      }
    }
    ASSERT_EQ(az.authorized_operations(principal, host, type, name), want_ops);
    if (ref.bindings.size() <= 300 || q < 10) {  // the reference is quadratic
      ASSERT_EQ(az.authorize_by_resource_type(principal, host, op, type),
                ref.by_resource_type(principal, host, op, type));
    }
  }

  // Listing: a random filter selects what a scan of the reference selects.
  for (int q = 0; q < 50; ++q) {
    AclBindingFilter f;
    if (g.pick(0, 1)) f.resource_type = g.type();
    if (g.pick(0, 1)) f.resource_name = g.name();
    f.pattern_type = static_cast<PT>(g.pick(1, 4));
    if (g.pick(0, 2) == 0) f.principal = g.principal();
    if (g.pick(0, 2) == 0) f.host = g.host();
    if (g.pick(0, 1)) f.operation = g.op();
    if (g.pick(0, 2) == 0) f.permission = g.pick(0, 1) ? PermissionType::kAllow : PermissionType::kDeny;
    std::vector<std::pair<AclId, AclBinding>> want;
    for (const auto& e : ref.bindings) {
      if (matches(f, e.second)) want.push_back(e);
    }
    auto got = az.find(f);
    auto by_id = [](const auto& x, const auto& y) { return x.first < y.first; };
    std::sort(want.begin(), want.end(), by_id);
    std::sort(got.begin(), got.end(), by_id);
    ASSERT_EQ(got, want) << "seed " << seed << " filter " << q;
  }
}

TEST(AuthorizerCrossCheck, FewBindings) {
  for (uint32_t seed = 1; seed <= 40; ++seed) cross_check(seed, 8, 300);
}

TEST(AuthorizerCrossCheck, ManyBindings) {
  for (uint32_t seed = 100; seed <= 110; ++seed) cross_check(seed, 200, 500);
}

TEST(AuthorizerCrossCheck, ThousandsOfBindings) { cross_check(7, 3000, 300); }

}  // namespace
}  // namespace millrace::security::acl

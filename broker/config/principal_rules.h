// ssl.principal.mapping.rules: Kafka's rules from a client certificate's
// subject (RFC 2253, e.g. "CN=alice,OU=apps,O=Example") to the user name of
// its principal (User:<name>). Each rule is DEFAULT (the whole subject) or
// RULE:<regex>/<replacement>/[L|U]: when the regex matches the whole subject,
// the replacement ($1.. for its groups) is the name, lower- or upper-cased by
// L or U. Rules are comma-separated and tried in order; the first that matches
// wins; when none does the connection is refused (Kafka: "No rules apply").
// Pure.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace millrace::broker {

struct PrincipalRule {
  bool is_default = false;
  std::regex pattern;
  std::string replacement;
  char fold = 0;  // 'L', 'U' or 0
};

struct PrincipalRulesParse {
  std::vector<PrincipalRule> rules;
  std::string error;  // empty when ok
};

PrincipalRulesParse parse_principal_rules(std::string_view text);
// The user name for `subject`; nullopt when no rule applies.
std::optional<std::string> map_principal(const std::vector<PrincipalRule>& rules, const std::string& subject);

}  // namespace millrace::broker

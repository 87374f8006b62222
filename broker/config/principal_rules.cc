#include "broker/config/principal_rules.h"

#include <cctype>

namespace millrace::broker {

namespace {

// Reads up to the next unescaped '/', un-escaping "\/"; nullopt when none.
std::optional<std::string> until_slash(std::string_view text, size_t& i) {
  std::string out;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      if (text[i + 1] != '/') out += c;
      out += text[i + 1];
      i += 2;
      continue;
    }
    if (c == '/') {
      ++i;
      return out;
    }
    out += c;
    ++i;
  }
  return std::nullopt;
}

}  // namespace

PrincipalRulesParse parse_principal_rules(std::string_view text) {
  PrincipalRulesParse out;
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
  };
  skip();
  while (i < text.size()) {
    PrincipalRule rule;
    if (text.substr(i, 7) == "DEFAULT") {
      rule.is_default = true;
      i += 7;
    } else if (text.substr(i, 5) == "RULE:") {
      i += 5;
      auto pattern = until_slash(text, i);
      auto replacement = pattern ? until_slash(text, i) : std::nullopt;
      if (!pattern || !replacement) {
        out.error = "a RULE is RULE:<regex>/<replacement>/[L|U]";
        return out;
      }
      try {
        rule.pattern = std::regex(*pattern);
      } catch (const std::regex_error& e) {
        out.error = "'" + *pattern + "' is not a regular expression: " + e.what();
        return out;
      }
      rule.replacement = std::move(*replacement);
      if (i < text.size() && (text[i] == 'L' || text[i] == 'U')) rule.fold = text[i++];
    } else {
      out.error = "'" + std::string(text.substr(i)) + "': each rule is DEFAULT or RULE:<regex>/<replacement>/[L|U]";
      return out;
    }
    out.rules.push_back(std::move(rule));
    skip();
    if (i < text.size()) {
      if (text[i] != ',') {
        out.error = "rules are separated by commas (at '" + std::string(text.substr(i)) + "')";
        return out;
      }
      ++i;
      skip();
    }
  }
  if (out.rules.empty()) out.error = "no rule: use DEFAULT";
  return out;
}

std::optional<std::string> map_principal(const std::vector<PrincipalRule>& rules, const std::string& subject) {
  for (const auto& r : rules) {
    if (r.is_default) return subject;
    if (!std::regex_match(subject, r.pattern)) continue;
    std::string name = std::regex_replace(subject, r.pattern, r.replacement);
    for (char& c : name) {
      if (r.fold == 'L') c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (r.fold == 'U') c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
  }
  return std::nullopt;
}

}  // namespace millrace::broker

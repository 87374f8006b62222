#include "security/sasl/jaas.h"

#include <cctype>

namespace millrace::security::sasl {

namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool done() {
    skip_space();
    return pos_ >= text_.size();
  }
  char peek() { return done() ? '\0' : text_[pos_]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // A word: anything up to space, '=', ';' or '"'.
  std::string word() {
    skip_space();
    size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c)) || c == '=' || c == ';' || c == '"') break;
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }
  // A double-quoted string after its opening quote; false when it never closes.
  bool quoted(std::string& out) {
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\' && pos_ < text_.size()) c = text_[pos_++];
      out += c;
    }
    return false;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

Error malformed(const std::string& what, size_t pos) {
  return {Errc::kMalformed, "sasl.jaas.config: " + what + " at character " + std::to_string(pos + 1)};
}

}  // namespace

Result<std::vector<JaasModule>> parse_jaas(std::string_view text) {
  Lexer lx(text);
  std::vector<JaasModule> out;
  while (!lx.done()) {
    JaasModule m;
    m.login_module = lx.word();
    if (m.login_module.empty()) return malformed("expected a login module class name", lx.pos());
    m.flag = lx.word();
    if (m.flag != "required" && m.flag != "requisite" && m.flag != "sufficient" && m.flag != "optional")
      return malformed("expected a control flag (required, requisite, sufficient or optional) after " +
                           m.login_module,
                       lx.pos());
    while (!lx.take(';')) {
      if (lx.done()) return malformed("missing ';' at the end of the " + m.login_module + " entry", lx.pos());
      std::string key = lx.word();
      if (key.empty()) return malformed("expected an option name", lx.pos());
      if (!lx.take('=')) return malformed("expected '=' after option " + key, lx.pos());
      std::string value;
      if (lx.take('"')) {
        if (!lx.quoted(value)) return malformed("the value of option " + key + " has no closing quote", lx.pos());
      } else {
        value = lx.word();
        if (value.empty()) return malformed("option " + key + " has no value", lx.pos());
      }
      m.options[key] = std::move(value);
    }
    out.push_back(std::move(m));
  }
  if (out.empty()) return Error{Errc::kMalformed, "sasl.jaas.config: no login module"};
  return out;
}

}  // namespace millrace::security::sasl

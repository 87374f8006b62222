// SASL/PLAIN message parsing (plain.h).
#include "security/sasl/plain.h"

#include <vector>

namespace millrace::security::sasl {

Result<PlainCredentials> parse_plain(std::string_view message) {
  if (message.size() > kMaxPlainMessageBytes) {
    return {Errc::kMalformed, "Invalid SASL/PLAIN response: longer than " +
                                  std::to_string(kMaxPlainMessageBytes) + " bytes"};
  }
  std::vector<std::string_view> tokens;
  size_t start = 0;
  for (size_t i = 0; i <= message.size(); ++i) {
    if (i == message.size() || message[i] == '\0') {
      tokens.push_back(message.substr(start, i - start));
      start = i + 1;
    }
  }
  if (tokens.size() != 3) {
    return {Errc::kMalformed, "Invalid SASL/PLAIN response: expected 3 tokens, got " +
                                  std::to_string(tokens.size())};
  }
  std::string_view authzid = tokens[0], authcid = tokens[1], password = tokens[2];
  if (authcid.empty()) return {Errc::kMalformed, "Authentication failed: username not specified"};
  if (password.empty()) return {Errc::kMalformed, "Authentication failed: password not specified"};
  if (!authzid.empty() && authzid != authcid) {
    return {Errc::kAuthenticationFailed,
            "Authentication failed: Client requested an authorization id that is different from "
            "username"};
  }
  return PlainCredentials{std::string(authcid), std::string(password)};
}

}  // namespace millrace::security::sasl

#include "client/result.h"

#include <string>

#include "protocol/generated/error_codes.h"

namespace millrace::client {

const char* error_code_name(int16_t code) {
  if (code == errc::kClientClosed) return "CLIENT_CLOSED";
  if (code == errc::kSslAuthenticationFailed) return "SSL_AUTHENTICATION_FAILED";
  if (code == errc::kInvalidClientConfig) return "INVALID_CLIENT_CONFIG";
  // The generated table returns views of string literals, so data() is NUL-terminated.
  return proto::error_name(code).data();
}

bool is_retriable(int16_t code) {
  // Kafka's own classification (RetriableException subclasses), generated from the
  // protocol definitions; the client's own codes (negative) are never retriable.
  return code > 0 && proto::error_retriable(code);
}

bool is_authentication_error(int16_t code) {
  return code == errc::kSaslAuthenticationFailed || code == errc::kUnsupportedSaslMechanism ||
         code == errc::kIllegalSaslState || code == errc::kSslAuthenticationFailed ||
         code == errc::kInvalidClientConfig;
}

std::string Error::to_string() const {
  std::string s(error_code_name(code));
  s.append(" (").append(std::to_string(code)).append(")");
  if (!message.empty()) s.append(": ").append(message);
  return s;
}

}  // namespace millrace::client

// Kafka's security protocols (SecurityProtocol.java), shared by the broker's
// listeners (listener.security.protocol.map) and the client (security.protocol):
// their names, and their ids as BrokerRegistration's listeners carry them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace millrace::security {

enum class SecurityProtocol : int16_t { kPlaintext = 0, kSsl = 1, kSaslPlaintext = 2, kSaslSsl = 3 };

inline std::string_view protocol_name(SecurityProtocol p) {
  switch (p) {
    case SecurityProtocol::kPlaintext: return "PLAINTEXT";
    case SecurityProtocol::kSsl: return "SSL";
    case SecurityProtocol::kSaslPlaintext: return "SASL_PLAINTEXT";
    case SecurityProtocol::kSaslSsl: return "SASL_SSL";
  }
  return "?";
}

// A protocol by its name (exactly, upper case); nullopt when it is none of them.
inline std::optional<SecurityProtocol> parse_protocol(std::string_view s) {
  if (s == "PLAINTEXT") return SecurityProtocol::kPlaintext;
  if (s == "SSL") return SecurityProtocol::kSsl;
  if (s == "SASL_PLAINTEXT") return SecurityProtocol::kSaslPlaintext;
  if (s == "SASL_SSL") return SecurityProtocol::kSaslSsl;
  return std::nullopt;
}

inline bool uses_tls(SecurityProtocol p) { return p == SecurityProtocol::kSsl || p == SecurityProtocol::kSaslSsl; }
inline bool uses_sasl(SecurityProtocol p) {
  return p == SecurityProtocol::kSaslPlaintext || p == SecurityProtocol::kSaslSsl;
}

}  // namespace millrace::security

// SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer reads it: the client's one
// message is `[authzid] NUL authcid NUL passwd`. This file only parses and
// checks the shape; comparing the password with a stored one is the caller's
// (the broker's credential store), in constant time.
//
// Refused, as Kafka refuses them (messages are Kafka's where it has one):
//   - not exactly two NULs                     "Invalid SASL/PLAIN response: expected 3 tokens, got N"
//   - empty authcid                            "Authentication failed: username not specified"
//   - empty password                           "Authentication failed: password not specified"
//   - authzid present and != authcid           "Authentication failed: Client requested an
//                                               authorization id that is different from username"
//   - longer than kMaxPlainMessageBytes
// All are Errc::kMalformed except the authzid one (kAuthenticationFailed).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "security/sasl/error.h"

namespace millrace::security::sasl {

inline constexpr std::string_view kPlainMechanism = "PLAIN";

// Upper bound of a PLAIN message (RFC 4616 asks servers to accept 255 octets
// per field; this leaves room for long tokens used as passwords).
inline constexpr size_t kMaxPlainMessageBytes = 64 * 1024;

struct PlainCredentials {
  std::string username;  // authcid; also the authorization id Kafka uses
  std::string password;
};

Result<PlainCredentials> parse_plain(std::string_view message);

}  // namespace millrace::security::sasl

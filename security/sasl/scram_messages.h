// The four SCRAM messages (RFC 5802 section 7) parsed and formatted; Kafka's
// ScramMessages in shape. Parsing is strict and total: any input gives a
// message or an Error (kMalformed for what does not parse, kUnsupported for
// what parses but Millrace refuses: channel binding, mandatory or unknown
// extensions, tokenauth=true). No parser reads past its argument.
//
// Attributes are `x=value` separated by ','; values never hold ','. A
// saslname (user, authzid) writes ',' as "=2C" and '=' as "=3D"; any other
// '=' in it, a NUL, or an empty name is malformed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "security/sasl/error.h"

namespace millrace::security::sasl::scram {

// "=2C"/"=3D" escaping of a user name.
std::string escape_saslname(std::string_view name);
Result<std::string> unescape_saslname(std::string_view saslname);

// client-first: gs2-header client-first-bare.
//   gs2-header = "n," ["a=" saslname] ","
//   client-first-bare = "n=" saslname ",r=" nonce ("," ext-name "=" value)*
// Only the extension tokenauth is known; tokenauth=true (any case) is
// refused (kUnsupported), any other value of it is ignored.
struct ClientFirstMessage {
  std::string gs2_header;  // "n,," or "n,a=...,"
  std::string authzid;     // decoded; empty when absent
  std::string username;    // decoded
  std::string nonce;
  std::string bare;        // client-first-bare as received, for AuthMessage
};
Result<ClientFirstMessage> parse_client_first(std::string_view message);

// server-first: "r=" nonce ",s=" base64(salt) ",i=" iterations
struct ServerFirstMessage {
  std::string nonce;
  std::vector<uint8_t> salt;
  int32_t iterations = 0;
};
std::string format_server_first(const ServerFirstMessage& m);
// Salt must be non-empty, iterations a positive decimal that fits int32.
Result<ServerFirstMessage> parse_server_first(std::string_view message);

// client-final: "c=" base64(gs2-header) ",r=" nonce ",p=" base64(proof)
struct ClientFinalMessage {
  std::vector<uint8_t> channel_binding;  // decoded c=
  std::string nonce;
  std::vector<uint8_t> proof;
  std::string without_proof;  // "c=...,r=...", for AuthMessage
};
std::string format_client_final_without_proof(std::string_view gs2_header, std::string_view nonce);
Result<ClientFinalMessage> parse_client_final(std::string_view message);

// server-final: "v=" base64(ServerSignature) | "e=" error
struct ServerFinalMessage {
  std::vector<uint8_t> signature;  // empty when error is set
  std::string error;
};
Result<ServerFinalMessage> parse_server_final(std::string_view message);

// A nonce is 1+ printable ASCII bytes (0x21..0x7E) other than ','.
bool valid_nonce(std::string_view nonce);

}  // namespace millrace::security::sasl::scram

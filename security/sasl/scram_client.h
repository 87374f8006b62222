// The client side of a SCRAM exchange (scram.h), small and strict: Millrace's
// client authenticates with it (client/sasl_client.h), and tests and fuzz
// targets run full exchanges against ScramServer. No I/O, not thread-safe.
//
//   ScramClient c(ScramMechanism::kSha256, "user", "pencil");
//   send(c.client_first());                  // n,,n=user,r=<nonce>
//   auto fin = c.client_final(server_first); // c=biws,r=...,p=...
//   Status ok = c.verify_server_final(server_final);
#pragma once

#include <string>
#include <string_view>

#include "security/sasl/error.h"
#include "security/sasl/scram.h"

namespace millrace::security::sasl {

class ScramClient {
 public:
  // `nonce` empty: a random one. `authzid` non-empty: sent as a=.
  ScramClient(ScramMechanism m, std::string username, std::string password, std::string nonce = {},
              std::string authzid = {});

  std::string client_first();
  // Refuses a server nonce that does not start with the client's, a salt that
  // does not decode, and iterations outside [kScramMinIterations, kScramMaxIterations].
  Result<std::string> client_final(std::string_view server_first);
  // Ok when the server proved it knows the ServerKey. REQUIRES: client_final() ok.
  Status verify_server_final(std::string_view server_final);

 private:
  ScramMechanism mechanism_;
  std::string username_;
  std::string password_;
  std::string nonce_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::vector<uint8_t> server_signature_;  // expected, set by client_final()
};

}  // namespace millrace::security::sasl

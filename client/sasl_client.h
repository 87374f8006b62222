// The client's side of one SASL exchange (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)
// as tokens, no I/O: Connection (connection.h) carries each token in a
// SaslAuthenticate request (after SaslHandshake v1) and hands back the
// broker's answer. SCRAM is security/sasl's ScramClient, which also checks the
// broker's final signature (a broker that does not know the password cannot
// pass). Not thread-safe; one exchange per authentication.
//
//   SaslExchange x(config);
//   token = x.first();
//   loop: answer = SaslAuthenticate(token); next = x.next(answer)
//         error -> refused; nullopt -> authenticated; else token = *next
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/result.h"
#include "client/security_config.h"

namespace millrace::security::sasl {
class ScramClient;
}

namespace millrace::client {

class SaslExchange {
 public:
  // REQUIRES: config.mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
  // (parse_security_config checked it).
  explicit SaslExchange(const SaslConfig& config);
  ~SaslExchange();

  std::string first();
  // The broker's answer to the last token: the next token, nullopt when the
  // exchange is complete, or SASL_AUTHENTICATION_FAILED saying why the broker's
  // answer is refused (e.g. its SCRAM signature does not verify).
  Result<std::optional<std::string>> next(std::string_view server);

 private:
  SaslConfig config_;
  std::unique_ptr<security::sasl::ScramClient> scram_;
  int step_ = 0;
};

}  // namespace millrace::client

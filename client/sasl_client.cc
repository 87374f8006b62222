#include "client/sasl_client.h"

#include "security/sasl/scram.h"
#include "security/sasl/scram_client.h"

namespace millrace::client {

namespace sasl = security::sasl;

SaslExchange::SaslExchange(const SaslConfig& config) : config_(config) {
  if (auto m = sasl::parse_scram_mechanism(config.mechanism))
    scram_ = std::make_unique<sasl::ScramClient>(*m, config.username, config.password);
}

SaslExchange::~SaslExchange() = default;

std::string SaslExchange::first() {
  step_ = 1;
  if (scram_) return scram_->client_first();
  // RFC 4616: [authzid] NUL authcid NUL passwd; no authzid, as Java's PlainSaslClient.
  return std::string(1, '\0') + config_.username + std::string(1, '\0') + config_.password;
}

Result<std::optional<std::string>> SaslExchange::next(std::string_view server) {
  auto refused = [&](const std::string& why) {
    return Error{errc::kSaslAuthenticationFailed, config_.mechanism + ": " + why};
  };
  if (!scram_) {
    if (step_ != 1) return refused("the broker asked for more after the PLAIN exchange");
    step_ = 2;
    return std::optional<std::string>();
  }
  if (step_ == 1) {
    auto final_message = scram_->client_final(server);
    if (!final_message.ok()) return refused("the broker's server-first message: " + final_message.error().message);
    step_ = 2;
    return std::optional<std::string>(std::move(final_message.value()));
  }
  if (step_ == 2) {
    auto verified = scram_->verify_server_final(server);
    if (!verified.ok()) return refused("the broker's server-final message: " + verified.error().message);
    step_ = 3;
    return std::optional<std::string>();
  }
  return refused("the broker asked for more after the SCRAM exchange");
}

}  // namespace millrace::client

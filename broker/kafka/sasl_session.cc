#include "broker/kafka/sasl_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "protocol/generated/api_keys.h"
#include "protocol/generated/error_codes.h"
#include "security/sasl/plain.h"
#include "security/sasl/scram.h"

namespace millrace::broker {

namespace sasl = security::sasl;

namespace {

// Kafka's mechanism numbers in UserScramCredentialRecord.
int8_t scram_type(sasl::ScramMechanism m) { return m == sasl::ScramMechanism::kSha256 ? 1 : 2; }

SaslStep failed(SecuritySession& s, std::string message, std::string reason = "") {
  s.exchange.reset();
  s.mechanism.clear();
  return {static_cast<int16_t>(proto::ErrorCode::kSaslAuthenticationFailed), std::move(message), {}, false,
          std::move(reason)};
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

int16_t sasl_handshake(SecuritySession& session, const std::string& mechanism, int16_t version) {
  session.exchange.reset();
  session.mechanism.clear();
  if (std::find(session.mechanisms.begin(), session.mechanisms.end(), mechanism) == session.mechanisms.end())
    return static_cast<int16_t>(proto::ErrorCode::kUnsupportedSaslMechanism);
  session.mechanism = mechanism;
  session.handshake_version = version;
  return 0;
}

SaslStep sasl_authenticate(SecuritySession& s, std::span<const uint8_t> token, const cluster::MetadataImage& image,
                           int64_t now_ms) {
  if (s.mechanism.empty())
    return {static_cast<int16_t>(proto::ErrorCode::kIllegalSaslState),
            "SaslAuthenticate before a successful SaslHandshake", {}, false};
  const std::string_view text(reinterpret_cast<const char*>(token.data()), token.size());
  std::string user;
  SaslStep step;
  if (s.mechanism == "PLAIN") {
    auto creds = sasl::parse_plain(text);
    if (!creds.ok()) return failed(s, creds.error().message);
    auto it = s.plain_users.find(creds->username);
    // Same work whether the user exists or not.
    const bool ok = constant_time_equal(it == s.plain_users.end() ? std::string("\x01") : it->second, creds->password) &&
                    it != s.plain_users.end();
    if (!ok) return failed(s, "Authentication failed: Invalid username or password");
    user = creds->username;
  } else if (auto m = sasl::parse_scram_mechanism(s.mechanism)) {
    if (!s.exchange) {
      const auto* security = &image.security();
      auto lookup = [security, type = scram_type(*m), mech = *m](const std::string& name)
          -> std::optional<sasl::ScramCredential> {
        auto it = security->scram.find({name, type});
        if (it == security->scram.end()) return std::nullopt;
        sasl::ScramCredential c;
        c.mechanism = mech;
        c.salt = it->second.salt;
        c.stored_key = it->second.stored_key;
        c.server_key = it->second.server_key;
        c.iterations = it->second.iterations;
        return c;
      };
      // The lookup runs inside the first step, while `image` is alive.
      s.exchange = std::make_shared<sasl::ScramServer>(*m, lookup);
    }
    auto* server = static_cast<sasl::ScramServer*>(s.exchange.get());
    auto r = server->step(text);
    if (!r.ok())
      return failed(s, "Authentication failed during authentication due to invalid credentials with SASL mechanism " +
                           s.mechanism,
                    r.error().message);
    step.reply.assign(r->response.begin(), r->response.end());
    if (!r->complete) return step;
    user = r->username;
  } else {
    return failed(s, "mechanism " + s.mechanism + " is not served");
  }
  s.exchange.reset();
  s.principal = "User:" + user;
  s.authenticated = true;
  s.expires_at_ms = s.reauth_ms > 0 ? now_ms + s.reauth_ms : 0;
  step.done = true;
  return step;
}

bool sasl_allows(const SecuritySession& s, int16_t key, int64_t now_ms) {
  using K = proto::ApiKey;
  if (key == static_cast<int16_t>(K::kApiVersions) || key == static_cast<int16_t>(K::kSaslHandshake) ||
      key == static_cast<int16_t>(K::kSaslAuthenticate))
    return true;
  if (!s.sasl) return true;
  if (!s.authenticated) return false;
  return s.expires_at_ms == 0 || now_ms < s.expires_at_ms;
}

}  // namespace millrace::broker

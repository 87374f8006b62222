// One connection's SASL exchange (SaslHandshake, then SaslAuthenticate
// requests, or after a v0 handshake raw tokens as old clients send them):
// the mechanism the client picked (of the listener's sasl.enabled.mechanisms),
// each client token through the mechanism (PLAIN against the listener's JAAS
// users, SCRAM-SHA-256/512 against the credentials in the metadata image), and
// on success the principal (User:<name>) and the session's end when
// connections.max.reauth.ms is set. Failures answer SASL_AUTHENTICATION_FAILED
// after a delay (sasl_failure_delay), are counted and logged, and end the
// exchange. The mechanisms themselves are security/sasl (pure).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "broker/server/request_dispatcher.h"
#include "cluster/metadata/metadata_image.h"

namespace millrace::broker {

// Kafka's delay before a failed authentication is answered (its
// connection.failed.authentication.delay.ms default is 100 ms).
inline constexpr int64_t kSaslFailureDelayMs = 100;

struct SaslStep {
  int16_t error = 0;            // 0, or SASL_AUTHENTICATION_FAILED / ILLEGAL_SASL_STATE
  std::string message;          // for the client (no secret in it)
  std::vector<uint8_t> reply;   // the server's token
  bool done = false;            // authenticated now
  std::string reason;           // for the broker's log (why, in the mechanism's words)
};

// SaslHandshake: the error for `mechanism` (0 or UNSUPPORTED_SASL_MECHANISM) and
// the enabled mechanisms; starts a new exchange (re-authentication too).
int16_t sasl_handshake(SecuritySession& session, const std::string& mechanism, int16_t version);

// One client token of the exchange. `image` for SCRAM credentials; `now_ms`
// for the session's end.
SaslStep sasl_authenticate(SecuritySession& session, std::span<const uint8_t> token,
                           const cluster::MetadataImage& image, int64_t now_ms);

// Whether a request of `api_key` may be served on this session now: on a SASL
// listener, before authentication only ApiVersions, SaslHandshake and
// SaslAuthenticate; after its end (re-authentication due) only those too.
bool sasl_allows(const SecuritySession& session, int16_t api_key, int64_t now_ms);

}  // namespace millrace::broker

// SCRAM credentials and the server side of the exchange (scram.h).
#include "security/sasl/scram.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <exception>

#include "security/sasl/base64.h"
#include "security/sasl/scram_formatter.h"
#include "security/sasl/scram_messages.h"

namespace millrace::security::sasl {
namespace {

constexpr std::string_view kInvalidCredentials = "Authentication failed: Invalid user credentials";
constexpr size_t kServerNonceBytes = 24;

bool random_bytes(std::span<uint8_t> out) {
  return out.empty() || RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

// Key of the decoy salts of unknown users: drawn once per process, so a user
// who does not exist gets the same salt on every attempt, as one who does.
const std::optional<std::array<uint8_t, 32>>& decoy_secret() {
  static const std::optional<std::array<uint8_t, 32>> secret = [] {
    std::array<uint8_t, 32> s{};
    return random_bytes(s) ? std::optional(s) : std::nullopt;
  }();
  return secret;
}

bool usable(const ScramCredential& c, ScramMechanism m) {
  return c.mechanism == m && c.iterations >= kScramMinIterations && c.iterations <= kScramMaxIterations &&
         !c.salt.empty() && c.stored_key.size() == hash_size(m) && c.server_key.size() == hash_size(m);
}

// A credential no proof matches, with a stable salt for `user`.
std::optional<ScramCredential> decoy(ScramMechanism m, const std::string& user) {
  const auto& secret = decoy_secret();
  if (!secret) return std::nullopt;
  std::string label = "millrace scram decoy salt ";
  label += mechanism_name(m);
  label += '\0';
  label += user;
  auto salt = scram::hmac(m, *secret, label);
  if (!salt) return std::nullopt;
  salt->resize(std::min(salt->size(), kScramSaltBytes));
  ScramCredential c;
  c.mechanism = m;
  c.salt = std::move(*salt);
  c.iterations = kScramMinIterations;
  c.stored_key.resize(hash_size(m));
  c.server_key.resize(hash_size(m));
  if (!random_bytes(c.stored_key) || !random_bytes(c.server_key)) return std::nullopt;
  return c;
}

std::optional<std::string> random_nonce() {
  std::array<uint8_t, kServerNonceBytes> b{};
  if (!random_bytes(b)) return std::nullopt;
  // Letters and digits only, as Kafka's nonces are: librdkafka 2.0.2 fails
  // the exchange when the server nonce holds base64's '+', '/' or '='.
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out;
  for (uint8_t byte : b) {
    out += kDigits[byte % 62];
    out += kDigits[(byte / 62) % 62];
  }
  return out;
}

}  // namespace

std::string_view mechanism_name(ScramMechanism m) {
  return m == ScramMechanism::kSha512 ? "SCRAM-SHA-512" : "SCRAM-SHA-256";
}

std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name) {
  if (name == "SCRAM-SHA-256") return ScramMechanism::kSha256;
  if (name == "SCRAM-SHA-512") return ScramMechanism::kSha512;
  return std::nullopt;
}

size_t hash_size(ScramMechanism m) { return m == ScramMechanism::kSha512 ? 64 : 32; }

Result<ScramCredential> make_credential(ScramMechanism m, std::string_view password,
                                        std::span<const uint8_t> salt, int32_t iterations) {
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations) {
    return {Errc::kInvalidArgument, "Iterations " + std::to_string(iterations) + " out of range [" +
                                        std::to_string(kScramMinIterations) + ", " +
                                        std::to_string(kScramMaxIterations) + "] for " +
                                        std::string(mechanism_name(m))};
  }
  if (salt.empty()) return {Errc::kInvalidArgument, "Salt must not be empty"};
  if (password.size() > kMaxScramMessageBytes) return {Errc::kInvalidArgument, "Password too long"};
  auto salted = scram::salted_password(m, password, salt, iterations);
  if (!salted) return {Errc::kInternal, "PBKDF2 failed"};
  auto client_key = scram::hmac(m, *salted, "Client Key");
  auto server_key = scram::hmac(m, *salted, "Server Key");
  if (!client_key || !server_key) return {Errc::kInternal, "HMAC failed"};
  auto stored_key = scram::hash(m, *client_key);
  if (!stored_key) return {Errc::kInternal, "hash failed"};
  return ScramCredential{m, std::vector<uint8_t>(salt.begin(), salt.end()), std::move(*stored_key),
                         std::move(*server_key), iterations};
}

Result<ScramCredential> credential_from_salted(ScramMechanism m, std::span<const uint8_t> salt,
                                               std::span<const uint8_t> salted, int32_t iterations) {
  if (iterations < kScramMinIterations) return {Errc::kInvalidArgument, "Too few iterations"};
  if (iterations > kScramMaxIterations) return {Errc::kInvalidArgument, "Too many iterations"};
  if (salt.empty()) return {Errc::kInvalidArgument, "Salt must not be empty"};
  if (salted.size() != hash_size(m))
    return {Errc::kInvalidArgument, "Salted password must be " + std::to_string(hash_size(m)) + " bytes for " +
                                        std::string(mechanism_name(m))};
  auto client_key = scram::hmac(m, salted, "Client Key");
  auto server_key = scram::hmac(m, salted, "Server Key");
  if (!client_key || !server_key) return {Errc::kInternal, "HMAC failed"};
  auto stored_key = scram::hash(m, *client_key);
  if (!stored_key) return {Errc::kInternal, "hash failed"};
  return ScramCredential{m, std::vector<uint8_t>(salt.begin(), salt.end()), std::move(*stored_key),
                         std::move(*server_key), iterations};
}

Result<ScramCredential> make_credential(ScramMechanism m, std::string_view password, int32_t iterations) {
  std::array<uint8_t, kScramSaltBytes> salt{};
  if (!random_bytes(salt)) return {Errc::kInternal, "RAND_bytes failed"};
  return make_credential(m, password, salt, iterations);
}

ScramServer::ScramServer(ScramMechanism m, ScramCredentialLookup lookup, ScramNonceSource nonce_source)
    : mechanism_(m), lookup_(std::move(lookup)), nonce_source_(std::move(nonce_source)) {}

Result<ScramStep> ScramServer::step(std::string_view client_message) {
  if (state_ == State::kComplete || state_ == State::kFailed) {
    return {Errc::kIllegalState, "SCRAM exchange has already ended"};
  }
  Result<ScramStep> r = Error{Errc::kInternal, ""};
  try {
    r = state_ == State::kClientFirst ? client_first(client_message) : client_final(client_message);
  } catch (const std::exception& e) {
    r = Error{Errc::kInternal, std::string("SCRAM server error: ") + e.what()};
  } catch (...) {
    r = Error{Errc::kInternal, "SCRAM server error"};
  }
  if (!r.ok()) {
    state_ = State::kFailed;
    credential_ = {};
  }
  return r;
}

Result<ScramStep> ScramServer::client_first(std::string_view message) {
  auto first = scram::parse_client_first(message);
  if (!first.ok()) return first.error();
  if (!first->authzid.empty() && first->authzid != first->username) {
    return {Errc::kAuthenticationFailed,
            "Authentication failed: Client requested an authorization id that is different from "
            "username"};
  }
  std::optional<ScramCredential> found;
  if (lookup_) found = lookup_(first->username);
  // A credential that cannot be right for this mechanism (misconfigured
  // store) fails like an unknown user: at the proof, with the same message.
  known_user_ = found.has_value() && usable(*found, mechanism_);
  if (!known_user_) found = decoy(mechanism_, first->username);
  if (!found) return {Errc::kInternal, "RAND_bytes failed"};
  credential_ = std::move(*found);

  std::optional<std::string> server_nonce = nonce_source_ ? std::optional(nonce_source_()) : random_nonce();
  if (!server_nonce || !scram::valid_nonce(*server_nonce)) return {Errc::kInternal, "no server nonce"};

  username_ = std::move(first->username);
  gs2_header_ = std::move(first->gs2_header);
  client_first_bare_ = std::move(first->bare);
  nonce_ = first->nonce + *server_nonce;
  server_first_ = scram::format_server_first({nonce_, credential_.salt, credential_.iterations});
  state_ = State::kClientFinal;
  return ScramStep{server_first_, false, {}};
}

Result<ScramStep> ScramServer::client_final(std::string_view message) {
  auto final_msg = scram::parse_client_final(message);
  if (!final_msg.ok()) return final_msg.error();
  if (!scram::equal_ct(final_msg->channel_binding, scram::as_bytes(gs2_header_))) {
    return {Errc::kAuthenticationFailed, "Authentication failed: channel binding does not match the gs2 header"};
  }
  // The final nonce must end with the combined one: Kafka 3.x's check
  // (Kafka 4.1 asks for equality). librdkafka before 2.6.1 (Debian's 2.0.2)
  // sends its own nonce again in front of it, so with equality it could not
  // log in at all; the client's proof covers the message as sent, so the
  // extra prefix weakens nothing.
  const std::string& got = final_msg->nonce;
  if (got.size() < nonce_.size() || got.compare(got.size() - nonce_.size(), nonce_.size(), nonce_) != 0) {
    return {Errc::kAuthenticationFailed, "Authentication failed: Invalid client nonce in the final client message"};
  }
  if (final_msg->proof.size() != hash_size(mechanism_)) {
    return {Errc::kAuthenticationFailed, std::string(kInvalidCredentials)};
  }
  std::string auth_message = client_first_bare_ + "," + server_first_ + "," + final_msg->without_proof;
  auto client_signature = scram::hmac(mechanism_, credential_.stored_key, auth_message);
  if (!client_signature) return {Errc::kInternal, "HMAC failed"};
  auto client_key = scram::xor_bytes(final_msg->proof, *client_signature);
  auto stored_key = scram::hash(mechanism_, client_key);
  if (!stored_key) return {Errc::kInternal, "hash failed"};
  bool match = scram::equal_ct(*stored_key, credential_.stored_key);
  if (!match || !known_user_) return {Errc::kAuthenticationFailed, std::string(kInvalidCredentials)};
  auto server_signature = scram::hmac(mechanism_, credential_.server_key, auth_message);
  if (!server_signature) return {Errc::kInternal, "HMAC failed"};
  state_ = State::kComplete;
  credential_ = {};
  return ScramStep{"v=" + base64_encode(*server_signature), true, username_};
}

}  // namespace millrace::security::sasl

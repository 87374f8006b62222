// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka runs them
// over SaslHandshake/SaslAuthenticate: the stored credential (the fields of
// Kafka's UserScramCredentialRecord), how one is made from a password, and the
// server side of the exchange as a state machine with no I/O.
//
// The exchange, one SaslAuthenticate round trip per line:
//   client-first  n,[a=authzid],n=user,r=cnonce[,tokenauth=...]
//   server-first  r=cnonce+snonce,s=base64(salt),i=iterations
//   client-final  c=base64(gs2 header),r=cnonce+snonce,p=base64(ClientProof)
//   server-final  v=base64(ServerSignature)
// with, H the mechanism's hash and HMAC keyed by its first argument:
//   SaltedPassword = PBKDF2-HMAC-H(password, salt, iterations)
//   ClientKey = HMAC(SaltedPassword, "Client Key")   StoredKey = H(ClientKey)
//   ServerKey = HMAC(SaltedPassword, "Server Key")
//   AuthMessage = client-first-bare + "," + server-first + "," + client-final-without-proof
//   ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage)
//   ServerSignature = HMAC(ServerKey, AuthMessage)
//
// What the server refuses (an Error, never an exception, never a crash):
//   channel binding (gs2 flag p= or y: only `n` is accepted, as Kafka), an
//   authzid other than the user (Kafka's message), mandatory extensions (m=),
//   any extension but tokenauth, and tokenauth=true (delegation tokens are not
//   supported), a final message whose c= is not the gs2 header sent first or
//   whose r= is not the combined nonce, a bad proof, a message larger than
//   kMaxScramMessageBytes, and any message that does not parse.
// An unknown user is not told apart from a wrong password: the server answers
// server-first with a salt derived from the user name and a process secret
// (the same salt on every attempt) and fails at the proof with the same
// message. Kafka itself fails at once there; this is deliberate.
// Passwords are used as given (no SASLprep), as Kafka does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "security/sasl/error.h"

namespace millrace::security::sasl {

enum class ScramMechanism : uint8_t { kSha256, kSha512 };

// "SCRAM-SHA-256" / "SCRAM-SHA-512", the names SaslHandshake carries.
std::string_view mechanism_name(ScramMechanism m);
std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name);
// Bytes of the mechanism's hash: 32 or 64 (the size of StoredKey, ServerKey, proofs).
size_t hash_size(ScramMechanism m);

// Kafka's bounds on iterations (ScramMechanism.minIterations/maxIterations).
inline constexpr int32_t kScramMinIterations = 4096;
inline constexpr int32_t kScramMaxIterations = 16384;
// Bytes of salt the random-salt make_credential() draws.
inline constexpr size_t kScramSaltBytes = 32;
// Upper bound of any one SCRAM message, in either direction.
inline constexpr size_t kMaxScramMessageBytes = 8 * 1024;

// What the broker stores per user and mechanism (UserScramCredentialRecord:
// Salt, StoredKey, ServerKey, Iterations). The password is not recoverable from it.
struct ScramCredential {
  ScramMechanism mechanism = ScramMechanism::kSha256;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> stored_key;
  std::vector<uint8_t> server_key;
  int32_t iterations = 0;

  bool operator==(const ScramCredential&) const = default;
};

// kInvalidArgument when iterations are outside [kScramMinIterations,
// kScramMaxIterations] or the salt is empty; kInternal if OpenSSL fails.
Result<ScramCredential> make_credential(ScramMechanism m, std::string_view password,
                                        std::span<const uint8_t> salt, int32_t iterations);
// Same with kScramSaltBytes of salt from RAND_bytes.
Result<ScramCredential> make_credential(ScramMechanism m, std::string_view password,
                                        int32_t iterations = kScramMinIterations);

// From what AlterUserScramCredentials carries (the client salts and hashes
// the password itself): salt, SaltedPassword = Hi(password, salt, i), i.
// kInvalidArgument ("Too few iterations", "Too many iterations", ...) as Kafka words it.
Result<ScramCredential> credential_from_salted(ScramMechanism m, std::span<const uint8_t> salt,
                                               std::span<const uint8_t> salted_password, int32_t iterations);

// Looks a user's credential up for the server's mechanism; nullopt if none.
// Called at most once per exchange, from step(), on the caller's thread.
using ScramCredentialLookup = std::function<std::optional<ScramCredential>(const std::string& user)>;
// Returns the server's part of the nonce: 1+ printable ASCII bytes other than
// ','. Injectable for tests (RFC 7677's vector); random by default.
using ScramNonceSource = std::function<std::string()>;

// What step() gives back when it does not fail.
struct ScramStep {
  std::string response;   // the server message to send (auth_bytes)
  bool complete = false;  // true after client-final: authenticated as `username`
  std::string username;   // set when complete
};

// The server side of one SCRAM exchange on one connection: construct it when
// the client picks the mechanism in SaslHandshake, feed it each
// SaslAuthenticate's auth_bytes. Not thread-safe (one connection's strand owns
// it); does no I/O. After an error the exchange is over: every later step()
// is kIllegalState, as after completion.
class ScramServer {
 public:
  ScramServer(ScramMechanism m, ScramCredentialLookup lookup, ScramNonceSource nonce_source = {});

  Result<ScramStep> step(std::string_view client_message);

  ScramMechanism mechanism() const { return mechanism_; }
  bool complete() const { return state_ == State::kComplete; }
  bool failed() const { return state_ == State::kFailed; }
  // The authenticated user. REQUIRES: complete().
  const std::string& username() const { return username_; }

 private:
  enum class State : uint8_t { kClientFirst, kClientFinal, kComplete, kFailed };

  Result<ScramStep> client_first(std::string_view message);
  Result<ScramStep> client_final(std::string_view message);

  ScramMechanism mechanism_;
  ScramCredentialLookup lookup_;
  ScramNonceSource nonce_source_;
  State state_ = State::kClientFirst;
  // Between client-first and client-final:
  ScramCredential credential_;
  bool known_user_ = false;  // false: credential_ is the decoy of an unknown user
  std::string username_;
  std::string gs2_header_;
  std::string nonce_;  // combined nonce
  std::string client_first_bare_;
  std::string server_first_;
};

}  // namespace millrace::security::sasl

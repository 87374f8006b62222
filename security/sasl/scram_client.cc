// SCRAM client for tests (scram_client.h).
#include "security/sasl/scram_client.h"

#include <openssl/rand.h>

#include <array>

#include "security/sasl/base64.h"
#include "security/sasl/scram_formatter.h"
#include "security/sasl/scram_messages.h"

namespace millrace::security::sasl {

ScramClient::ScramClient(ScramMechanism m, std::string username, std::string password, std::string nonce,
                         std::string authzid)
    : mechanism_(m), username_(std::move(username)), password_(std::move(password)), nonce_(std::move(nonce)) {
  if (nonce_.empty()) {
    std::array<uint8_t, 18> b{};
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) b.fill(0x5A);  // tests only
    nonce_ = base64_encode(b);
  }
  gs2_header_ = authzid.empty() ? "n,," : "n,a=" + scram::escape_saslname(authzid) + ",";
  client_first_bare_ = "n=" + scram::escape_saslname(username_) + ",r=" + nonce_;
}

std::string ScramClient::client_first() { return gs2_header_ + client_first_bare_; }

Result<std::string> ScramClient::client_final(std::string_view server_first) {
  auto first = scram::parse_server_first(server_first);
  if (!first.ok()) return first.error();
  if (first->nonce.size() <= nonce_.size() || !first->nonce.starts_with(nonce_)) {
    return {Errc::kAuthenticationFailed, "server nonce does not extend the client nonce"};
  }
  if (first->iterations < kScramMinIterations || first->iterations > kScramMaxIterations) {
    return {Errc::kAuthenticationFailed, "iterations out of range"};
  }
  auto salted = scram::salted_password(mechanism_, password_, first->salt, first->iterations);
  if (!salted) return {Errc::kInternal, "PBKDF2 failed"};
  auto client_key = scram::hmac(mechanism_, *salted, "Client Key");
  auto server_key = scram::hmac(mechanism_, *salted, "Server Key");
  if (!client_key || !server_key) return {Errc::kInternal, "HMAC failed"};
  auto stored_key = scram::hash(mechanism_, *client_key);
  if (!stored_key) return {Errc::kInternal, "hash failed"};
  std::string without_proof = scram::format_client_final_without_proof(gs2_header_, first->nonce);
  std::string auth_message = client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  auto client_signature = scram::hmac(mechanism_, *stored_key, auth_message);
  auto server_signature = scram::hmac(mechanism_, *server_key, auth_message);
  if (!client_signature || !server_signature) return {Errc::kInternal, "HMAC failed"};
  server_signature_ = std::move(*server_signature);
  return without_proof + ",p=" + base64_encode(scram::xor_bytes(*client_key, *client_signature));
}

Status ScramClient::verify_server_final(std::string_view server_final) {
  auto fin = scram::parse_server_final(server_final);
  if (!fin.ok()) return fin.error();
  if (!fin->error.empty()) return {Errc::kAuthenticationFailed, "server error: " + fin->error};
  if (server_signature_.empty() || !scram::equal_ct(fin->signature, server_signature_)) {
    return {Errc::kAuthenticationFailed, "server signature does not verify"};
  }
  return Status::Ok();
}

}  // namespace millrace::security::sasl

// SCRAM computations over OpenSSL (scram_formatter.h).
#include "security/sasl/scram_formatter.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits>

namespace millrace::security::sasl::scram {
namespace {

const EVP_MD* digest(ScramMechanism m) {
  return m == ScramMechanism::kSha512 ? EVP_sha512() : EVP_sha256();
}

}  // namespace

std::optional<Bytes> hash(ScramMechanism m, std::span<const uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, digest(m), nullptr) != 1) return std::nullopt;
  out.resize(n);
  return out;
}

std::optional<Bytes> hmac(ScramMechanism m, std::span<const uint8_t> key, std::span<const uint8_t> data) {
  if (key.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return std::nullopt;
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  // HMAC() wants a non-null key pointer even for an empty key.
  static const uint8_t kEmpty = 0;
  const uint8_t* k = key.empty() ? &kEmpty : key.data();
  if (HMAC(digest(m), k, static_cast<int>(key.size()), data.data(), data.size(), out.data(), &n) == nullptr) {
    return std::nullopt;
  }
  out.resize(n);
  return out;
}

std::optional<Bytes> hmac(ScramMechanism m, std::span<const uint8_t> key, std::string_view data) {
  return hmac(m, key, as_bytes(data));
}

std::optional<Bytes> salted_password(ScramMechanism m, std::string_view password,
                                     std::span<const uint8_t> salt, int32_t iterations) {
  constexpr size_t kIntMax = static_cast<size_t>(std::numeric_limits<int>::max());
  if (iterations < 1 || password.size() > kIntMax || salt.size() > kIntMax) return std::nullopt;
  Bytes out(hash_size(m));
  static const char kEmpty = 0;
  static const uint8_t kEmptySalt = 0;
  if (PKCS5_PBKDF2_HMAC(password.empty() ? &kEmpty : password.data(), static_cast<int>(password.size()),
                        salt.empty() ? &kEmptySalt : salt.data(), static_cast<int>(salt.size()), iterations,
                        digest(m), static_cast<int>(out.size()), out.data()) != 1) {
    return std::nullopt;
  }
  return out;
}

Bytes xor_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  Bytes out(a.size());
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) out[i] = a[i] ^ b[i];
  return out;
}

bool equal_ct(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace millrace::security::sasl::scram

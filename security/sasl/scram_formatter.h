// The SCRAM computations (RFC 5802 section 3) over OpenSSL, shared by the
// server (scram.cc) and the test client (scram_client.h); Kafka's
// ScramFormatter in shape. Each returns nullopt only if OpenSSL fails.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "security/sasl/scram.h"

namespace millrace::security::sasl::scram {

using Bytes = std::vector<uint8_t>;

std::optional<Bytes> hash(ScramMechanism m, std::span<const uint8_t> data);
std::optional<Bytes> hmac(ScramMechanism m, std::span<const uint8_t> key, std::span<const uint8_t> data);
std::optional<Bytes> hmac(ScramMechanism m, std::span<const uint8_t> key, std::string_view data);
// PBKDF2-HMAC-H: Hi(password, salt, iterations).
std::optional<Bytes> salted_password(ScramMechanism m, std::string_view password,
                                     std::span<const uint8_t> salt, int32_t iterations);
// a XOR b. REQUIRES: a.size() == b.size().
Bytes xor_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b);
// Constant-time equality (CRYPTO_memcmp); false when sizes differ.
bool equal_ct(std::span<const uint8_t> a, std::span<const uint8_t> b);

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace millrace::security::sasl::scram

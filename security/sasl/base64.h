// Base64 (RFC 4648 section 4, the standard alphabet with '=' padding), as SCRAM
// carries salts, proofs and signatures. Decoding is strict: the length must be
// a multiple of 4, padding only at the end, no whitespace, and the unused low
// bits of the last symbol must be zero, so every byte string has exactly one
// accepted encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace millrace::security::sasl {

std::string base64_encode(std::span<const uint8_t> bytes);
std::string base64_encode(std::string_view bytes);

// nullopt when `text` is not strict base64.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace millrace::security::sasl

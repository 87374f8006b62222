// Errors as values for the SASL mechanisms (plain.h, scram.h). Nothing here
// throws for bad client input: every malformed or refused message comes back
// as an Error, which the broker turns into a SaslAuthenticate response.
//
// Kafka answers every authentication failure with SASL_AUTHENTICATION_FAILED
// (58) and the message; a message out of turn (a step after the exchange has
// ended) is ILLEGAL_SASL_STATE (34). The intended mapping is noted on each
// enumerator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace millrace::security::sasl {

enum class Errc : uint8_t {
  kMalformed,             // message does not parse               [SASL_AUTHENTICATION_FAILED 58]
  kUnsupported,           // channel binding, token auth, unknown extension [58]
  kAuthenticationFailed,  // wrong password, unknown user, bad nonce, authzid [58]
  kIllegalState,          // step() after the exchange ended      [ILLEGAL_SASL_STATE 34]
  kInvalidArgument,       // bad call argument (iterations out of range, bad salt)
  kInternal,              // the crypto library failed (RAND_bytes, PBKDF2)
};

const char* to_string(Errc e);

struct Error {
  Errc code;
  std::string message;
  std::string to_string() const;
};

// A value or an Error. REQUIRES: value() only when ok(), error() only when !ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : error_(std::move(error)) {}  // NOLINT
  Result(Errc code, std::string message) : error_(Error{code, std::move(message)}) {}

  bool ok() const { return value_.has_value(); }
  const Error& error() const { return *error_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  std::optional<Error> error_;
};

// Ok or an Error, for calls that return nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT
  Status(Errc code, std::string message) : error_(Error{code, std::move(message)}) {}
  static Status Ok() { return {}; }

  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace millrace::security::sasl

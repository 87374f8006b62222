// Errors as values for every public client call.
//
// An Error carries the Kafka error code the broker (or the client itself) chose,
// using Kafka's numbering (0 = none, 7 = REQUEST_TIMED_OUT, 36 = TOPIC_ALREADY_EXISTS,
// ...; -1 = UNKNOWN_SERVER_ERROR), plus a human message saying what happened and,
// where we know it, what to do. Result<T> is either a value or an Error; nothing in
// the client throws for expected failures (timeouts, broker errors, bad input).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace millrace::client {

// Kafka error codes the client itself produces or branches on.
namespace errc {
inline constexpr int16_t kUnknownServerError = -1;
inline constexpr int16_t kNone = 0;
inline constexpr int16_t kOffsetOutOfRange = 1;
inline constexpr int16_t kCorruptMessage = 2;
inline constexpr int16_t kUnknownTopicOrPartition = 3;
inline constexpr int16_t kLeaderNotAvailable = 5;
inline constexpr int16_t kNotLeaderOrFollower = 6;
inline constexpr int16_t kRequestTimedOut = 7;
inline constexpr int16_t kMessageTooLarge = 10;
inline constexpr int16_t kNetworkException = 13;
inline constexpr int16_t kCoordinatorLoadInProgress = 14;
inline constexpr int16_t kCoordinatorNotAvailable = 15;
inline constexpr int16_t kNotCoordinator = 16;
inline constexpr int16_t kRecordListTooLarge = 18;
inline constexpr int16_t kNotEnoughReplicas = 19;
inline constexpr int16_t kNotEnoughReplicasAfterAppend = 20;
inline constexpr int16_t kIllegalGeneration = 22;
inline constexpr int16_t kUnknownMemberId = 25;
inline constexpr int16_t kRebalanceInProgress = 27;
inline constexpr int16_t kUnsupportedVersion = 35;
inline constexpr int16_t kTopicAlreadyExists = 36;
inline constexpr int16_t kInvalidPartitions = 37;
inline constexpr int16_t kInvalidRequest = 42;
inline constexpr int16_t kOutOfOrderSequence = 45;
inline constexpr int16_t kDuplicateSequence = 46;
inline constexpr int16_t kInvalidProducerEpoch = 47;
inline constexpr int16_t kInvalidConfig = 40;
inline constexpr int16_t kGroupIdNotFound = 69;
inline constexpr int16_t kNonEmptyGroup = 68;
inline constexpr int16_t kMemberIdRequired = 79;
inline constexpr int16_t kUnknownProducerId = 59;
inline constexpr int16_t kKafkaStorageError = 56;
inline constexpr int16_t kFencedLeaderEpoch = 74;
inline constexpr int16_t kUnknownLeaderEpoch = 75;
inline constexpr int16_t kOffsetNotAvailable = 78;
inline constexpr int16_t kNotController = 41;
inline constexpr int16_t kThrottlingQuotaExceeded = 89;
inline constexpr int16_t kUnsupportedSaslMechanism = 33;
inline constexpr int16_t kIllegalSaslState = 34;
inline constexpr int16_t kSaslAuthenticationFailed = 58;
// Client-side codes share Kafka's numbering where Kafka has one (7 timeout, 13
// network); buffer exhaustion is reported as REQUEST_TIMED_OUT with its own message.
// A call on a closed producer, consumer or admin client has no Kafka code (the Java
// client throws IllegalStateException): it gets this client-only code, below Kafka's
// range, which is not retriable.
inline constexpr int16_t kClientClosed = -100;
// The broker's certificate (or, with mTLS, ours) was refused in the TLS handshake:
// TLS has no Kafka error code (Java throws SslAuthenticationException). Not retriable.
inline constexpr int16_t kSslAuthenticationFailed = -101;
// The client's own configuration is wrong (Java throws ConfigException): the message
// names the setting. Not retriable.
inline constexpr int16_t kInvalidClientConfig = -102;
}  // namespace errc

// Kafka's name for an error code ("TOPIC_ALREADY_EXISTS", from the generated table in
// protocol/generated/error_codes.h), "CLIENT_CLOSED" for errc::kClientClosed,
// "UNKNOWN" otherwise. The pointer is to a static, NUL-terminated string.
const char* error_code_name(int16_t code);
// True for the codes Kafka marks retriable (leader moves, timeouts, network).
bool is_retriable(int16_t code);
// True when a connection cannot succeed until the configuration or the
// credentials change: SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM,
// ILLEGAL_SASL_STATE, SSL_AUTHENTICATION_FAILED, INVALID_CLIENT_CONFIG. The
// producer, consumer and admin client give such an error back at once, as Java's
// AuthenticationException, instead of retrying until a timeout.
bool is_authentication_error(int16_t code);

struct Error {
  int16_t code = errc::kNone;
  std::string message;

  bool ok() const { return code == errc::kNone; }
  // "TOPIC_ALREADY_EXISTS (36): Topic 'x' already exists."
  std::string to_string() const;

  static Error none() { return {}; }
  static Error timeout(std::string what) { return {errc::kRequestTimedOut, std::move(what)}; }
  static Error network(std::string what) { return {errc::kNetworkException, std::move(what)}; }
  static Error invalid(std::string what) { return {errc::kInvalidRequest, std::move(what)}; }
  static Error closed(std::string what) { return {errc::kClientClosed, std::move(what)}; }
};

template <typename T>
class Result {
 public:
  Result() : v_(Error{errc::kUnknownServerError, "no result"}) {}   // for asio::co_spawn
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}        // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const {
    static const Error kOk{};
    return ok() ? kOk : std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result of a call that returns nothing but may fail.
using Status = Error;

}  // namespace millrace::client

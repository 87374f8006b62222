// Errors as values for the storage engine. Every public call of Log and
// LogManager returns a Status or a Result<T>; nothing throws across the
// storage boundary for an expected failure (bad batch, full disk, bad offset).
//
// The broker maps Errc to Kafka error codes; the intended mapping is noted on
// each enumerator (Kafka code in brackets).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace millrace::storage {

enum class Errc : uint8_t {
  kOk = 0,
  kCorruptMessage,       // batch fails framing or CRC; nothing written      [CORRUPT_MESSAGE 2]
  kUnsupportedMagic,     // magic 0/1 batch                                  [UNSUPPORTED_FOR_MESSAGE_FORMAT 43]
  kMessageTooLarge,      // batch larger than max.message.bytes              [MESSAGE_TOO_LARGE 10]
  kOffsetOutOfRange,     // read/seek outside [log start, log end]           [OFFSET_OUT_OF_RANGE 1]
  kOutOfOrderSequence,   // idempotent producer sequence gap                 [OUT_OF_ORDER_SEQUENCE_NUMBER 45]
  kInvalidProducerEpoch, // producer epoch older than the stored one         [INVALID_PRODUCER_EPOCH 47]
  kStorageFull,          // ENOSPC/EDQUOT/EFBIG; log still usable           [KAFKA_STORAGE_ERROR 56]
  kStorageError,         // other I/O error                                  [KAFKA_STORAGE_ERROR 56]
  kCorruptSegment,       // a segment/metadata file that cannot be read at open [KAFKA_STORAGE_ERROR 56]
  kInvalidArgument,      // bad config value or bad call argument            [INVALID_CONFIG 40 / INVALID_REQUEST 42]
  kNotFound,             // unknown partition                                [UNKNOWN_TOPIC_OR_PARTITION 3]
  kAlreadyExists,        // partition already exists                         [TOPIC_ALREADY_EXISTS 36]
  kClosed,               // log closed or deleted                            [NOT_LEADER_OR_FOLLOWER 6]
  kNotEnoughReplicas,    // fewer live in-sync replicas than min.insync.replicas [NOT_ENOUGH_REPLICAS 19]
};

const char* to_string(Errc e);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == Errc::kOk; }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Errc code_ = Errc::kOk;
  std::string message_;
};

// A value or a non-ok Status. REQUIRES: value() only when ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  Result(Errc code, std::string message) : status_(code, std::move(message)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  Errc code() const { return status_.code(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

// Status from an errno of a failed system call; ENOSPC/EDQUOT/EFBIG -> kStorageFull.
Status io_error(const std::string& what, int err);

}  // namespace millrace::storage

// Storage errors as Kafka error codes (the mapping noted in storage/status.h).
#pragma once

#include "protocol/generated/error_codes.h"
#include "storage/status.h"

namespace millrace::broker {

inline int16_t kafka_error(storage::Errc e) {
  using E = proto::ErrorCode;
  using S = storage::Errc;
  switch (e) {
    case S::kOk: return proto::code(E::kNone);
    case S::kCorruptMessage: return proto::code(E::kCorruptMessage);
    case S::kUnsupportedMagic: return proto::code(E::kUnsupportedForMessageFormat);
    case S::kMessageTooLarge: return proto::code(E::kMessageTooLarge);
    case S::kOffsetOutOfRange: return proto::code(E::kOffsetOutOfRange);
    case S::kOutOfOrderSequence: return proto::code(E::kOutOfOrderSequenceNumber);
    case S::kInvalidProducerEpoch: return proto::code(E::kInvalidProducerEpoch);
    case S::kStorageFull:
    case S::kStorageError:
    case S::kCorruptSegment: return proto::code(E::kKafkaStorageError);
    case S::kInvalidArgument: return proto::code(E::kInvalidRequest);
    case S::kNotFound: return proto::code(E::kUnknownTopicOrPartition);
    case S::kAlreadyExists: return proto::code(E::kTopicAlreadyExists);
    case S::kClosed: return proto::code(E::kNotLeaderOrFollower);
    case S::kNotEnoughReplicas: return proto::code(E::kNotEnoughReplicas);
  }
  return proto::code(E::kUnknownServerError);
}

}  // namespace millrace::broker

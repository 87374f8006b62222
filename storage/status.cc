#include "storage/status.h"

#include <cerrno>
#include <cstring>

namespace millrace::storage {

const char* to_string(Errc e) {
  switch (e) {
    case Errc::kOk: return "ok";
    case Errc::kCorruptMessage: return "corrupt message";
    case Errc::kUnsupportedMagic: return "unsupported message format";
    case Errc::kMessageTooLarge: return "message too large";
    case Errc::kOffsetOutOfRange: return "offset out of range";
    case Errc::kOutOfOrderSequence: return "out of order sequence";
    case Errc::kInvalidProducerEpoch: return "invalid producer epoch";
    case Errc::kStorageFull: return "storage full";
    case Errc::kStorageError: return "storage error";
    case Errc::kCorruptSegment: return "corrupt segment";
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kNotFound: return "not found";
    case Errc::kAlreadyExists: return "already exists";
    case Errc::kClosed: return "closed";
    case Errc::kNotEnoughReplicas: return "not enough replicas";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  return std::string(storage::to_string(code_)) + ": " + message_;
}

Status io_error(const std::string& what, int err) {
  Errc code = (err == ENOSPC || err == EDQUOT || err == EFBIG) ? Errc::kStorageFull : Errc::kStorageError;
  return Status(code, what + ": " + std::strerror(err));
}

}  // namespace millrace::storage

// Names of the SASL error codes (error.h).
#include "security/sasl/error.h"

namespace millrace::security::sasl {

const char* to_string(Errc e) {
  switch (e) {
    case Errc::kMalformed: return "malformed";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kAuthenticationFailed: return "authentication failed";
    case Errc::kIllegalState: return "illegal state";
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::to_string() const {
  return std::string(sasl::to_string(code)) + ": " + message;
}

}  // namespace millrace::security::sasl

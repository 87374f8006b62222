#include "client/result.h"

#include <string>

#include "protocol/generated/error_codes.h"

namespace millrace::client {

const char* error_code_name(int16_t code) {
  if (code == errc::kClientClosed) return "CLIENT_CLOSED";
  // The generated table returns views of string literals, so data() is NUL-terminated.
  return proto::error_name(code).data();
}

bool is_retriable(int16_t code) {
  switch (code) {
    case 2: case 3: case 5: case 6: case 7: case 13: case 14: case 15: case 16:
    case 19: case 20: case 56: case 74: case 75: case 78: case 89:
      return true;
    default:
      return false;
  }
}

std::string Error::to_string() const {
  std::string s(error_code_name(code));
  s.append(" (").append(std::to_string(code)).append(")");
  if (!message.empty()) s.append(": ").append(message);
  return s;
}

}  // namespace millrace::client

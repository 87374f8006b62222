// What Consumer::poll() returns: one record with its position, owning its bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/producer_record.h"

namespace millrace::client {

struct ConsumerRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string> key, value;
  std::vector<Header> headers;
};

}  // namespace millrace::client

#include "cluster/topics/topic_command.h"

#include <random>

namespace millrace::cluster {

TopicId random_topic_id() {
  std::random_device rd;
  TopicId id{};
  for (auto& b : id) b = static_cast<uint8_t>(rd());
  id[6] = (id[6] & 0x0f) | 0x40;  // UUID v4
  id[8] = (id[8] & 0x3f) | 0x80;
  return id;
}

const std::string& command_topic(const TopicCommand& cmd) {
  return std::visit([](const auto& c) -> const std::string& { return c.name; }, cmd);
}

}  // namespace millrace::cluster

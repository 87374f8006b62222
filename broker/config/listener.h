// Listener addresses as Kafka writes them: NAME://host:port[,NAME://host:port].
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace millrace::broker {

struct Listener {
  std::string name;  // PLAINTEXT, http, ...
  std::string host;  // empty host = all interfaces
  uint16_t port = 0;
};

struct ListenerParse {
  std::vector<Listener> listeners;
  std::string error;  // empty when ok
};

// Concatenates pieces (avoids g++ 12's false -Wrestrict on chained operator+).
std::string join(std::initializer_list<std::string_view> parts);

// `expected_scheme` is compared case-insensitively; other schemes are errors.
// An empty `expected_scheme` takes any listener name (Kafka's NAME://: PLAINTEXT,
// CONTROLLER, ...); which names are served is checked with the node's roles.
ListenerParse parse_listeners(std::string_view text, std::string_view expected_scheme);

}  // namespace millrace::broker

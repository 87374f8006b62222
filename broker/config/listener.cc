#include "broker/config/listener.h"

#include <algorithm>
#include <charconv>
#include <strings.h>

namespace millrace::broker {

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

ListenerParse parse_listeners(std::string_view text, std::string_view expected_scheme) {
  ListenerParse out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    auto sep = item.find("://");
    if (sep == std::string_view::npos) {
      out.error = join({"'", item, "' is not NAME://host:port"});
      return out;
    }
    Listener l;
    l.name = std::string(item.substr(0, sep));
    if (expected_scheme.empty()) {
      // Kafka's listener names: letters, digits, '_' (CONTROLLER, PLAINTEXT, ...).
      bool good = !l.name.empty() && std::all_of(l.name.begin(), l.name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
      if (!good) {
        out.error = join({"listener name '", l.name, "' is not a name (letters, digits, _)"});
        return out;
      }
    } else if (l.name.size() != expected_scheme.size() ||
               strncasecmp(l.name.c_str(), expected_scheme.data(), expected_scheme.size()) != 0) {
      out.error = join({"listener scheme '", l.name, "' is not supported; use ", expected_scheme, "://host:port"});
      return out;
    }
    std::string_view hostport = item.substr(sep + 3);
    auto colon = hostport.rfind(':');
    if (colon == std::string_view::npos) {
      out.error = join({"'", item, "' has no :port"});
      return out;
    }
    std::string_view host = hostport.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    l.host = std::string(host);
    std::string_view port = hostport.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value > 65535) {
      out.error = join({"'", port, "' is not a port number (0-65535)"});
      return out;
    }
    l.port = static_cast<uint16_t>(value);
    out.listeners.push_back(std::move(l));
  }
  return out;
}

}  // namespace millrace::broker

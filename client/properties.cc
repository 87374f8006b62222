#include "client/properties.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "client/security_config.h"

namespace millrace::client {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\f'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Unescapes \t \n \r \f \uXXXX, and \c for any other c.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        unsigned cp = 0;
        int n = 0;
        while (n < 4 && i + 1 < s.size() && hex_value(s[i + 1]) >= 0) cp = cp * 16 + static_cast<unsigned>(hex_value(s[++i])), ++n;
        append_utf8(out, cp);
        break;
      }
      default: out += c;
    }
  }
  return out;
}

// Whether a physical line ends in an odd number of backslashes (continues).
bool continues(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[line.size() - 1 - n] == '\\') ++n;
  return n % 2 == 1;
}

void add_logical_line(std::string_view line, Properties& out) {
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  if (i >= line.size() || line[i] == '#' || line[i] == '!') return;
  // The key ends at the first unescaped '=', ':' or white space.
  size_t k = i;
  while (k < line.size()) {
    if (line[k] == '\\') {
      k += 2;
      continue;
    }
    if (line[k] == '=' || line[k] == ':' || is_space(line[k])) break;
    ++k;
  }
  k = std::min(k, line.size());
  std::string key = unescape(line.substr(i, k - i));
  size_t v = k;
  while (v < line.size() && is_space(line[v])) ++v;
  if (v < line.size() && (line[v] == '=' || line[v] == ':')) ++v;
  while (v < line.size() && is_space(line[v])) ++v;
  out[key] = unescape(line.substr(v));
}

}  // namespace

Properties parse_properties(std::string_view text) {
  Properties out;
  std::string logical;
  bool joining = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (joining) {
      size_t i = 0;
      while (i < line.size() && is_space(line[i])) ++i;
      line = line.substr(i);
    } else {
      size_t i = 0;
      while (i < line.size() && is_space(line[i])) ++i;
      if (i < line.size() && (line[i] == '#' || line[i] == '!')) line = {};  // a comment does not continue
    }
    if (continues(line)) {
      logical.append(line.substr(0, line.size() - 1));
      joining = true;
    } else {
      logical.append(line);
      add_logical_line(logical, out);
      logical.clear();
      joining = false;
    }
    if (end >= text.size()) break;
    pos = end + 1;
    if (text[end] == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
  }
  if (!logical.empty()) add_logical_line(logical, out);
  return out;
}

Result<Properties> load_properties_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{errc::kInvalidClientConfig, "cannot read the properties file " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_properties(ss.str());
}

Result<std::vector<std::string>> apply_properties(const Properties& props, ClientConfig& config) {
  auto security = parse_security_config(props);
  if (!security.ok()) return security.error();
  std::vector<std::string> ignored;
  for (const auto& [key, value] : props) {
    if (key == "bootstrap.servers") {
      if (parse_bootstrap(value).empty())
        return Error{errc::kInvalidClientConfig, "bootstrap.servers=" + value + ": expected host:port[,host:port]"};
      config.bootstrap_servers = value;
    } else if (key == "client.id") {
      config.client_id = value;
    } else if (key == "request.timeout.ms") {
      char* end = nullptr;
      long long ms = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || ms <= 0)
        return Error{errc::kInvalidClientConfig, "request.timeout.ms=" + value + ": expected a positive number"};
      config.request_timeout = std::chrono::milliseconds(ms);
    } else if (!is_security_key(key)) {
      ignored.push_back(key);
    }
  }
  config.security = std::move(*security);
  return ignored;
}

}  // namespace millrace::client

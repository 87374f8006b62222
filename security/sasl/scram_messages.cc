// SCRAM message parsing and formatting (scram_messages.h).
#include "security/sasl/scram_messages.h"

#include <optional>

#include "security/sasl/base64.h"
#include "security/sasl/scram.h"

namespace millrace::security::sasl::scram {
namespace {

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ',') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// The value of `name=value`, or nullopt when the attribute is another.
std::optional<std::string_view> attr(std::string_view part, char name) {
  if (part.size() < 2 || part[0] != name || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Error malformed(std::string_view which, std::string_view why) {
  return {Errc::kMalformed, "Invalid SCRAM " + std::string(which) + " message: " + std::string(why)};
}

bool too_long(std::string_view message) { return message.size() > kMaxScramMessageBytes; }
std::string too_long_text() { return "longer than " + std::to_string(kMaxScramMessageBytes) + " bytes"; }

}  // namespace

bool valid_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E || c == ',') return false;
  }
  return true;
}

std::string escape_saslname(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == ',') out += "=2C";
    else if (c == '=') out += "=3D";
    else out += c;
  }
  return out;
}

Result<std::string> unescape_saslname(std::string_view saslname) {
  if (saslname.empty()) return {Errc::kMalformed, "empty saslname"};
  std::string out;
  out.reserve(saslname.size());
  for (size_t i = 0; i < saslname.size(); ++i) {
    char c = saslname[i];
    if (c == '\0' || c == ',') return {Errc::kMalformed, "invalid character in saslname"};
    if (c != '=') {
      out += c;
      continue;
    }
    std::string_view esc = saslname.substr(i + 1, 2);
    if (esc == "2C") out += ',';
    else if (esc == "3D") out += '=';
    else return {Errc::kMalformed, "invalid '=' escape in saslname"};
    i += 2;
  }
  return out;
}

Result<ClientFirstMessage> parse_client_first(std::string_view message) {
  constexpr std::string_view kWhich = "client first";
  if (too_long(message)) return malformed(kWhich, too_long_text());
  // gs2-cbind-flag: only "n" (the client does not use channel binding).
  if (message.starts_with("p=")) return Error{Errc::kUnsupported, "Channel binding is not supported"};
  if (message.starts_with("y,")) {
    return Error{Errc::kUnsupported, "Channel binding is not supported (gs2 flag 'y')"};
  }
  if (!message.starts_with("n,")) return malformed(kWhich, "gs2 header must start with 'n,'");
  ClientFirstMessage out;
  size_t end = message.find(',', 2);
  if (end == std::string_view::npos) return malformed(kWhich, "truncated gs2 header");
  std::string_view authzid = message.substr(2, end - 2);
  if (!authzid.empty()) {
    auto a = attr(authzid, 'a');
    if (!a) return malformed(kWhich, "bad authzid in gs2 header");
    auto decoded = unescape_saslname(*a);
    if (!decoded.ok()) return malformed(kWhich, "authzid: " + decoded.error().message);
    out.authzid = std::move(decoded).value();
  }
  out.gs2_header = std::string(message.substr(0, end + 1));
  out.bare = std::string(message.substr(end + 1));

  auto parts = split(out.bare);
  if (!parts.empty() && attr(parts[0], 'm')) {
    return Error{Errc::kUnsupported, "Mandatory SCRAM extensions are not supported"};
  }
  if (parts.size() < 2) return malformed(kWhich, "expected n= and r=");
  auto n = attr(parts[0], 'n');
  if (!n) return malformed(kWhich, "expected n=");
  auto user = unescape_saslname(*n);
  if (!user.ok()) return malformed(kWhich, "user name: " + user.error().message);
  out.username = std::move(user).value();
  auto r = attr(parts[1], 'r');
  if (!r) return malformed(kWhich, "expected r=");
  if (!valid_nonce(*r)) return malformed(kWhich, "invalid nonce");
  out.nonce = std::string(*r);

  bool seen_tokenauth = false;
  for (size_t i = 2; i < parts.size(); ++i) {
    std::string_view ext = parts[i];
    size_t eq = ext.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == ext.size()) {
      return malformed(kWhich, "invalid extension");
    }
    std::string_view key = ext.substr(0, eq), value = ext.substr(eq + 1);
    for (char c : key) {
      if (!is_alpha(c)) return malformed(kWhich, "invalid extension name");
    }
    for (char c : value) {
      if (c == '\0') return malformed(kWhich, "invalid extension value");
    }
    if (key != "tokenauth") {
      return Error{Errc::kUnsupported, "Unsupported SCRAM extension: " + std::string(key)};
    }
    if (seen_tokenauth) return malformed(kWhich, "tokenauth given twice");
    seen_tokenauth = true;
    if (iequals(value, "true")) {
      return Error{Errc::kUnsupported, "Delegation token authentication is not supported"};
    }
  }
  return out;
}

std::string format_server_first(const ServerFirstMessage& m) {
  return "r=" + m.nonce + ",s=" + base64_encode(m.salt) + ",i=" + std::to_string(m.iterations);
}

Result<ServerFirstMessage> parse_server_first(std::string_view message) {
  constexpr std::string_view kWhich = "server first";
  if (too_long(message)) return malformed(kWhich, too_long_text());
  auto parts = split(message);
  if (!parts.empty() && attr(parts[0], 'm')) {
    return Error{Errc::kUnsupported, "Mandatory SCRAM extensions are not supported"};
  }
  if (parts.size() != 3) return malformed(kWhich, "expected r=, s= and i=");
  auto r = attr(parts[0], 'r');
  auto s = attr(parts[1], 's');
  auto i = attr(parts[2], 'i');
  if (!r || !s || !i) return malformed(kWhich, "expected r=, s= and i=");
  ServerFirstMessage out;
  if (!valid_nonce(*r)) return malformed(kWhich, "invalid nonce");
  out.nonce = std::string(*r);
  auto salt = base64_decode(*s);
  if (!salt || salt->empty()) return malformed(kWhich, "invalid salt");
  out.salt = std::move(*salt);
  if (i->empty() || i->size() > 10 || (*i)[0] == '0') return malformed(kWhich, "invalid iteration count");
  int64_t n = 0;
  for (char c : *i) {
    if (c < '0' || c > '9') return malformed(kWhich, "invalid iteration count");
    n = n * 10 + (c - '0');
  }
  if (n > INT32_MAX) return malformed(kWhich, "invalid iteration count");
  out.iterations = static_cast<int32_t>(n);
  return out;
}

std::string format_client_final_without_proof(std::string_view gs2_header, std::string_view nonce) {
  return "c=" + base64_encode(gs2_header) + ",r=" + std::string(nonce);
}

Result<ClientFinalMessage> parse_client_final(std::string_view message) {
  constexpr std::string_view kWhich = "client final";
  if (too_long(message)) return malformed(kWhich, too_long_text());
  auto parts = split(message);
  if (parts.size() != 3) return malformed(kWhich, "expected c=, r= and p=");
  auto c = attr(parts[0], 'c');
  auto r = attr(parts[1], 'r');
  auto p = attr(parts[2], 'p');
  if (!c || !r || !p) return malformed(kWhich, "expected c=, r= and p=");
  ClientFinalMessage out;
  auto cb = base64_decode(*c);
  if (!cb) return malformed(kWhich, "invalid channel binding");
  out.channel_binding = std::move(*cb);
  if (!valid_nonce(*r)) return malformed(kWhich, "invalid nonce");
  out.nonce = std::string(*r);
  auto proof = base64_decode(*p);
  if (!proof || proof->empty()) return malformed(kWhich, "invalid proof");
  out.proof = std::move(*proof);
  out.without_proof = std::string(message.substr(0, parts[0].size() + 1 + parts[1].size()));
  return out;
}

Result<ServerFinalMessage> parse_server_final(std::string_view message) {
  constexpr std::string_view kWhich = "server final";
  if (too_long(message)) return malformed(kWhich, too_long_text());
  auto parts = split(message);
  ServerFinalMessage out;
  if (auto e = attr(parts[0], 'e')) {
    if (parts.size() != 1 || e->empty()) return malformed(kWhich, "invalid error");
    out.error = std::string(*e);
    return out;
  }
  if (parts.size() != 1) return malformed(kWhich, "expected v=");
  auto v = attr(parts[0], 'v');
  if (!v) return malformed(kWhich, "expected v= or e=");
  auto sig = base64_decode(*v);
  if (!sig || sig->empty()) return malformed(kWhich, "invalid server signature");
  out.signature = std::move(*sig);
  return out;
}

}  // namespace millrace::security::sasl::scram

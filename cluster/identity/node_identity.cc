#include "cluster/identity/node_identity.h"

#include <cstring>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "protocol/record/crc32c.h"
#include "storage/checkpoint.h"

namespace millrace::cluster {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHeader = "# Millrace node identity. Do not edit: the crc32c line checks the lines above it.\n";

std::string hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

uint32_t crc_of(const std::string& s) {
  return record::crc32c(0, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

bool parse_int32(const std::string& s, int32_t& out) {
  if (s.empty() || s.size() > 11) return false;
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used != s.size() || v < 0 || v > INT32_MAX) return false;
    out = static_cast<int32_t>(v);
    return true;
  } catch (...) {
    return false;
  }
}

// Anything but our own file, and lost+found, counts as data.
bool has_data(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name == "lost+found" || name == kIdentityFile || name.starts_with(std::string(kIdentityFile) + "."))
      continue;
    return true;
  }
  return false;
}

}  // namespace

std::string encode_identity(const DirectoryIdentity& id) {
  std::string body = kHeader;
  body += "version=" + std::to_string(id.version) + "\n";
  body += "cluster.id=" + id.cluster_id + "\n";
  body += "node.id=" + std::to_string(id.node_id) + "\n";
  body += "directory.id=" + id.directory_id + "\n";
  return body + "crc32c=" + hex8(crc_of(body)) + "\n";
}

std::string parse_identity(const std::string& text, DirectoryIdentity& out) {
  auto at = text.rfind("crc32c=");
  if (at == std::string::npos || (at > 0 && text[at - 1] != '\n')) return "no crc32c line";
  std::string body = text.substr(0, at);
  std::string crc_line = text.substr(at + 7);
  if (!crc_line.empty() && crc_line.back() == '\n') crc_line.pop_back();
  if (crc_line != hex8(crc_of(body))) return "checksum mismatch (the file is damaged or was edited)";
  std::map<std::string, std::string> kv;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) return "line without '=': " + line;
    auto key = line.substr(0, eq);
    if (key != "version" && key != "cluster.id" && key != "node.id" && key != "directory.id")
      return "unknown key " + key;
    if (!kv.emplace(key, line.substr(eq + 1)).second) return "duplicate key " + key;
  }
  for (const char* k : {"version", "cluster.id", "node.id", "directory.id"})
    if (!kv.count(k) || kv[k].empty()) return std::string("missing ") + k;
  DirectoryIdentity id;
  if (!parse_int32(kv["version"], id.version) || id.version != 1) return "unsupported version " + kv["version"];
  if (!parse_int32(kv["node.id"], id.node_id)) return "bad node.id " + kv["node.id"];
  id.cluster_id = kv["cluster.id"];
  id.directory_id = kv["directory.id"];
  out = std::move(id);
  return {};
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}  // namespace

std::string encode_directory_id(const std::array<uint8_t, 16>& b) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t byte : b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;  // 22 characters
}

std::optional<std::array<uint8_t, 16>> decode_directory_id(std::string_view text) {
  if (text.size() != 22) return std::nullopt;
  std::array<uint8_t, 16> out{};
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    const char* at = std::strchr(kAlphabet, c);
    if (c == '\0' || at == nullptr) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(at - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == out.size()) return std::nullopt;
      out[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  // 22 characters carry 132 bits: the last 4 must be zero (one spelling per id).
  if (n != out.size() || (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string new_directory_id() {
  std::random_device rd;  // /dev/urandom
  std::array<uint8_t, 16> b{};
  for (size_t i = 0; i < b.size(); i += 4) {
    uint32_t r = rd();
    for (size_t j = 0; j < 4; ++j) b[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  return encode_directory_id(b);
}

const char* origin_name(IdentityOrigin o) {
  switch (o) {
    case IdentityOrigin::kExisting: return "existing";
    case IdentityOrigin::kCreated: return "created";
    case IdentityOrigin::kAdopted: return "adopted";
  }
  return "?";
}

EnsuredIdentity ensure_identity(const fs::path& dir, const std::string& cluster_id, int32_t node_id,
                                storage::Env* env, const std::string& directory_id_if_new) {
  EnsuredIdentity r;
  const fs::path file = dir / kIdentityFile;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    r.error = "cannot create log dir " + dir.string() + ": " + ec.message();
    return r;
  }
  if (fs::exists(file, ec)) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in.good() && !in.eof()) {
      r.error = "cannot read " + file.string();
      return r;
    }
    if (auto why = parse_identity(ss.str(), r.identity); !why.empty()) {
      r.error = file.string() + " is damaged: " + why +
                ". Refusing to start rather than guess which node this directory belongs to; restore the file, "
                "or if this directory's data is to be discarded, empty the directory";
      return r;
    }
    if (r.identity.cluster_id != cluster_id) {
      r.error = "log dir " + dir.string() + " belongs to cluster.id " + r.identity.cluster_id +
                " but this broker is configured with cluster.id " + cluster_id +
                ". Point log.dirs at this cluster's volume, or fix cluster.id";
      return r;
    }
    if (r.identity.node_id != node_id) {
      r.error = "log dir " + dir.string() + " belongs to node.id " + std::to_string(r.identity.node_id) +
                " but this broker is configured with node.id " + std::to_string(node_id) +
                ". A node must keep its id for the life of its data: fix node.id, or give this node an empty "
                "volume";
      return r;
    }
    r.origin = IdentityOrigin::kExisting;
    return r;
  }
  r.origin = has_data(dir) ? IdentityOrigin::kAdopted : IdentityOrigin::kCreated;
  r.identity = {.version = 1, .cluster_id = cluster_id, .node_id = node_id, .directory_id = directory_id_if_new.empty() ? new_directory_id() : directory_id_if_new};
  auto text = encode_identity(r.identity);
  if (auto st = storage::write_file_atomic(file, std::vector<uint8_t>(text.begin(), text.end()), env); !st.ok())
    r.error = "cannot write " + file.string() + ": " + st.to_string();
  return r;
}

}  // namespace millrace::cluster

// Durable node identity: which cluster and node a log directory belongs to,
// and the directory's own id (Kafka's meta.properties, KIP-858's directory.id).
// A pod that comes back on a wiped volume must not rejoin Raft groups under its
// old id with none of its old data: the wiped directory gets a new directory.id,
// and a directory of another cluster or node refuses the start.
//
// File format (<log dir>/meta.properties), Java-properties text so an operator
// can read it, with a checksum line last; written with storage::write_file_atomic:
//   # Millrace node identity. Do not edit: the crc32c line checks the lines above it.
//   version=1
//   cluster.id=<cluster.id>
//   node.id=<node.id>
//   directory.id=<22 characters: 16 random bytes, base64url without padding, as Kafka's Uuid>
//   crc32c=<8 hex digits: CRC-32C of every byte before this line>
// Unknown keys are refused (a damaged or foreign file is never guessed around).
//
// Pure parsing/encoding plus one call that checks or creates the file of a
// directory; no global state. Thread-safety: none needed (used at start).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/env.h"

namespace millrace::cluster {

struct DirectoryIdentity {
  int32_t version = 1;
  std::string cluster_id;
  int32_t node_id = -1;
  std::string directory_id;
  bool operator==(const DirectoryIdentity&) const = default;
};

inline constexpr const char* kIdentityFile = "meta.properties";

std::string encode_identity(const DirectoryIdentity& id);
// Fills `out`, or returns why the text is not a valid identity file.
std::string parse_identity(const std::string& text, DirectoryIdentity& out);
// A fresh directory id: 16 random bytes, base64url without padding.
std::string new_directory_id();
// The 16 bytes of a directory id and back (Kafka's Uuid text form).
std::string encode_directory_id(const std::array<uint8_t, 16>& bytes);
std::optional<std::array<uint8_t, 16>> decode_directory_id(std::string_view text);

// What ensure_identity found.
enum class IdentityOrigin : uint8_t {
  kExisting,  // the file was there and matches
  kCreated,   // empty directory: a new identity
  kAdopted,   // data from before identity files: written once, with a new directory id
};

struct EnsuredIdentity {
  DirectoryIdentity identity;
  IdentityOrigin origin = IdentityOrigin::kExisting;
  std::string error;  // non-empty: refuse to start, this says why and what to do
};

// Checks `dir`'s identity file against this node, or writes one (creating the
// directory if needed). Refuses: another cluster.id or node.id, a damaged file.
// A new file gets `directory_id_if_new` when given (`format --initial-controllers`
// names each controller's directory id), else a random one.
EnsuredIdentity ensure_identity(const std::filesystem::path& dir, const std::string& cluster_id, int32_t node_id,
                                storage::Env* env = nullptr, const std::string& directory_id_if_new = "");

const char* origin_name(IdentityOrigin o);

}  // namespace millrace::cluster

// `millrace-broker format` (Kafka's `kafka-storage.sh format` for a dynamic
// quorum, KIP-853): writes a controller's node identity and its metadata log's
// first configuration before the first start, as one of
//
//   --standalone              this controller alone: the first voter of a new quorum
//   --initial-controllers L   the voters L = id@host:port:directoryId,... (this node among them)
//   --no-initial-controllers  none: it joins a running quorum as an observer, to be
//                             added with AddRaftVoter (`kafka-metadata-quorum.sh add-controller`)
//
// A controller with controller.quorum.bootstrap.servers refuses to start on
// an unformatted directory (its voters are its log's, never guessed), and
// format refuses a directory that holds a metadata log already. The initial
// controllers' addresses are kept beside the log (kInitialControllersFile),
// so each voter can reach the others before their registrations are in it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config.h"

namespace millrace::broker {

inline constexpr const char* kInitialControllersFile = "initial-controllers";

struct InitialController {
  int32_t id = -1;
  std::string host;
  uint16_t port = 0;
  std::string directory_id;  // Kafka's Uuid text (22 characters)
  bool operator==(const InitialController&) const = default;
};

// "" when `text` (id@host:port:directoryId,...) parses into `out`; else what is wrong.
std::string parse_initial_controllers(std::string_view text, std::vector<InitialController>& out);

struct FormatRequest {
  bool standalone = false;
  bool no_initial_controllers = false;
  std::string initial_controllers;
};

// "" once the first log directory of `cfg` is formatted; else why not
// (nothing written, or only the identity file of an empty directory).
std::string format_storage(const Config& cfg, const FormatRequest& req);

// The initial controllers written by format (none: an empty list).
std::vector<InitialController> read_initial_controllers(const std::filesystem::path& log_dir);

// Whether `log_dir` holds a metadata log (formatted, or run before).
bool metadata_log_exists(const std::filesystem::path& log_dir);

}  // namespace millrace::broker

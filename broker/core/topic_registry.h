// The broker's topic metadata: which topics exist, their partition counts,
// topic ids and Kafka-named config overrides. Logs themselves live in the
// storage LogManager; this registry decides what they are.
//
// File format (<first log dir>/topics.json), rewritten on every change with
// storage::write_file_atomic (temp file, fdatasync, rename, fsync of the dir)
// and framed as storage/checkpoint.h draws it:
//   | version u8 = 2 | JSON payload | crc32c u32 |
//   JSON: {"version": 1,
//          "topics": {"<name>": {"id": "<32 hex>", "partitions": N,
//                                "internal": bool, "configs": {"retention.ms": "..."}}}}
// The older unframed file (the JSON alone, first byte '{') is still read and
// rewritten framed at start. A file that fails its CRC fails the start (never
// guessed around: adopting would mint new topic ids).
// At start, partitions found on disk but missing from the file are adopted
// (a topic with k partitions on disk gets k), so a lost file loses only
// config overrides. A partition the file lists but no log dir has is offline
// (LogManager::add_offline, KAFKA_STORAGE_ERROR), never re-created empty: a
// partition is on disk, its directory fsynced, before the file lists it.
//
// Thread-safety: every call may run from any thread. One mutex guards the
// table; it is not held while partition logs are created or removed, nor while
// the file is written (a topic being created or deleted is reserved meanwhile;
// file writes are ordered by a second mutex and a version).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "storage/log_manager.h"

namespace millrace::broker {

struct TopicInfo {
  std::string name;
  std::array<uint8_t, 16> id{};
  int32_t partitions = 0;
  bool internal = false;
  std::map<std::string, std::string> configs;
};

// Kafka error codes returned by registry calls (0 = ok).
class TopicRegistry {
 public:
  TopicRegistry(storage::LogManager& logs, std::filesystem::path file, storage::Env* env = nullptr);
  static constexpr uint8_t kFileVersion = 2;
  // Reads the file and adopts partitions on disk. Returns an error message.
  std::string load();

  std::optional<TopicInfo> get(const std::string& name) const;
  std::vector<TopicInfo> all() const;

  // Creates the topic and all its partition logs. Returns a Kafka error code
  // (0, TOPIC_ALREADY_EXISTS 36, INVALID_TOPIC_EXCEPTION 17, INVALID_PARTITIONS
  // 37, INVALID_CONFIG 40, KAFKA_STORAGE_ERROR 56) and fills `message`.
  int16_t create(const std::string& name, int32_t partitions, const std::map<std::string, std::string>& configs,
                 bool internal, bool validate_only, std::string& message);
  int16_t remove(const std::string& name, std::string& message);
  int16_t add_partitions(const std::string& name, int32_t total, bool validate_only, std::string& message);
  // Replaces (replace=true) or merges the topic's overrides; value nullopt deletes a key.
  int16_t alter_configs(const std::string& name, const std::map<std::string, std::optional<std::string>>& changes,
                        bool replace, bool validate_only, std::string& message);

  static bool valid_topic_name(const std::string& name, std::string& why);

  // Called after every change of the table has been written (any thread, no
  // lock held): how the metadata image learns of it. Set once, before serving.
  void set_on_change(std::function<void()> cb) { on_change_ = std::move(cb); }

 private:
  // Writes the table as it is now; releases `lock` (held on entry) first.
  std::string save(std::unique_lock<std::mutex>& lock);

  storage::LogManager& logs_;
  std::filesystem::path file_;
  storage::Env* env_;
  mutable std::mutex mu_;
  std::map<std::string, TopicInfo> topics_;  // GUARDED_BY(mu_)
  std::set<std::string> busy_;               // GUARDED_BY(mu_): being created or deleted
  uint64_t version_ = 0;                     // GUARDED_BY(mu_): table changes
  std::mutex save_mu_;                       // one file write at a time
  uint64_t saved_version_ = 0;               // GUARDED_BY(save_mu_)
  std::function<void()> on_change_;
};

// Topic-level config names the broker accepts (Kafka's names).
bool known_topic_config(const std::string& name);
// Validates a topic config value; returns an error message or empty.
std::string check_topic_config(const std::string& name, const std::string& value);

}  // namespace millrace::broker

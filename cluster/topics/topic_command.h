// The commands that change the topic table, in the order a log gives them:
// today the local command log (command_log.h), later the controller's Raft
// log. A command carries everything its application needs (a new topic's id is
// chosen before the command is written), so applying the same commands in the
// same order always builds the same table (topic_table.h).
//
// Plain values; no thread-safety concerns.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace millrace::cluster {

using TopicId = std::array<uint8_t, 16>;

// A random version-4 UUID for a new topic.
TopicId random_topic_id();

// CreateTopics, auto-creation, and adoption of partitions found on disk.
struct CreateTopic {
  std::string name;
  TopicId id{};
  int32_t partitions = 0;
  std::map<std::string, std::string> configs;  // Kafka-named overrides
  bool internal = false;
  // Adopted at start: the partitions were found on disk, so the reconciler
  // creates none (one the disk lacks stays offline, never made empty).
  bool adopted = false;
  bool operator==(const CreateTopic&) const = default;
};

// DeleteTopics. A non-zero id must match the topic's (the name may have been
// deleted and created again since the caller looked it up).
struct DeleteTopic {
  std::string name;
  TopicId id{};
  bool operator==(const DeleteTopic&) const = default;
};

// CreatePartitions: grows the topic to `total` partitions.
struct AddPartitions {
  std::string name;
  int32_t total = 0;
  bool adopted = false;  // as CreateTopic::adopted
  bool operator==(const AddPartitions&) const = default;
};

// AlterConfigs (replace = true: the changes are the whole new set) and
// IncrementalAlterConfigs (merge; a nullopt value deletes the key).
struct AlterConfigs {
  std::string name;
  std::map<std::string, std::optional<std::string>> changes;
  bool replace = false;
  bool operator==(const AlterConfigs&) const = default;
};

using TopicCommand = std::variant<CreateTopic, DeleteTopic, AddPartitions, AlterConfigs>;

// The topic a command is about.
const std::string& command_topic(const TopicCommand& cmd);

}  // namespace millrace::cluster

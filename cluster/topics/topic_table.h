// TopicTable: which topics exist, their ids, partition counts and config
// overrides, as a pure state machine over ordered commands (etcd/raft style):
// validate(cmd) checks a command against the current state with Kafka's error
// codes and messages; apply(cmd, offset) changes the state and says what
// changed (a TopicDelta, which the reconciler turns into partition logs). No
// I/O, no clock, no randomness: replaying the same commands from a log gives
// the same table.
//
// Thread-safety: none; the owner (topic_controller.h) calls it from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/topics/topic_command.h"

namespace millrace::cluster {

struct TopicInfo {
  std::string name;
  TopicId id{};
  int32_t partitions = 0;
  bool internal = false;
  std::map<std::string, std::string> configs;
  bool operator==(const TopicInfo&) const = default;
};

// A Kafka error code (0 = none) and its message, as a command's outcome.
struct TopicError {
  int16_t code = 0;
  std::string message;
  bool ok() const { return code == 0; }
};

// What one applied command changed, for the reconciler.
struct TopicDelta {
  std::string topic;
  bool new_topic = false;        // a topic created by a client (not adopted)
  std::vector<int32_t> created;  // partitions that must now exist
  std::vector<int32_t> removed;  // partitions that must now be gone
  // The topic's overrides after the command, when it set or changed them
  // (a created topic always carries them: its logs are made with them).
  std::optional<std::map<std::string, std::string>> configs;
  bool operator==(const TopicDelta&) const = default;
};

// Kafka's topic name rule (legal characters, length, not "." or "..").
bool valid_topic_name(const std::string& name, std::string& why);
// Topic-level config names the broker accepts (Kafka's names).
bool known_topic_config(const std::string& name);
// Validates a topic config value; returns an error message or empty.
std::string check_topic_config(const std::string& name, const std::string& value);

class TopicTable {
 public:
  using Topics = std::map<std::string, TopicInfo>;
  static constexpr int32_t kMaxPartitions = 100000;

  TopicTable() = default;
  // A table as a snapshot left it: `topics` after every command up to `offset`.
  TopicTable(Topics topics, int64_t offset) : topics_(std::move(topics)), offset_(offset) {}

  // Whether `cmd` may be applied now: code 0, or TOPIC_ALREADY_EXISTS (36),
  // INVALID_TOPIC_EXCEPTION (17), INVALID_PARTITIONS (37), INVALID_CONFIG (40),
  // UNKNOWN_TOPIC_OR_PARTITION (3), UNKNOWN_TOPIC_ID (100) with Kafka's message.
  TopicError validate(const TopicCommand& cmd) const;

  // Applies `cmd` as the command at `offset`.
  // REQUIRES: offset > applied_offset().
  // A command that does not validate changes nothing but the offset (a log
  // replays what was valid when written; this keeps replay total) and returns
  // an empty delta.
  TopicDelta apply(const TopicCommand& cmd, int64_t offset);

  // Adoption at start: the commands that make the table list every partition
  // found on disk (`on_disk`: topic -> highest partition + 1). New topics get
  // `new_id(name)`; names starting with "__" are internal.
  template <typename NewId>
  std::vector<TopicCommand> adoption(const std::map<std::string, int32_t>& on_disk, NewId new_id) const {
    std::vector<TopicCommand> out;
    for (const auto& [name, n] : on_disk) {
      auto it = topics_.find(name);
      if (it == topics_.end())
        out.emplace_back(CreateTopic{name, new_id(name), n, {}, name.rfind("__", 0) == 0, true});
      else if (it->second.partitions < n)
        out.emplace_back(AddPartitions{name, n, true});
    }
    return out;
  }

  const Topics& topics() const { return topics_; }
  const TopicInfo* find(const std::string& name) const;
  int64_t applied_offset() const { return offset_; }
  bool operator==(const TopicTable&) const = default;

 private:
  Topics topics_;
  int64_t offset_ = 0;  // the last applied command's; 0 before any
};

}  // namespace millrace::cluster

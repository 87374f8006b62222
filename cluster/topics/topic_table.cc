#include "cluster/topics/topic_table.h"

#include <cassert>
#include <cctype>

#include "protocol/generated/error_codes.h"
#include "storage/log_config.h"

namespace millrace::cluster {

namespace {
using proto::ErrorCode;

TopicError error(ErrorCode code, std::string message) { return {proto::code(code), std::move(message)}; }

TopicError unknown_topic(const std::string& name) {
  return error(ErrorCode::kUnknownTopicOrPartition, "topic '" + name + "' does not exist");
}

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;
}  // namespace

bool valid_topic_name(const std::string& name, std::string& why) {
  if (name.empty()) { why = "topic name is empty"; return false; }
  if (name == "." || name == "..") { why = "topic name cannot be '.' or '..'"; return false; }
  if (name.size() > 249) { why = "topic name is longer than 249 characters"; return false; }
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      why = "topic name '" + name + "' has characters other than ASCII alphanumerics, '.', '_' and '-'";
      return false;
    }
  return true;
}

bool known_topic_config(const std::string& name) { return storage::LogConfig::is_known_name(name); }

std::string check_topic_config(const std::string& name, const std::string& value) {
  if (!known_topic_config(name)) return "unknown topic config '" + name + "'";
  auto r = storage::LogConfig{}.with_overrides({{name, value}});
  if (!r.ok()) return r.status().message();
  return {};
}

const TopicInfo* TopicTable::find(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

TopicError TopicTable::validate(const TopicCommand& cmd) const {
  return std::visit(
      Overloaded{
          [&](const CreateTopic& c) -> TopicError {
            // Adopted partitions are facts on disk: only the table's own rule applies.
            if (!c.adopted) {
              std::string why;
              if (!valid_topic_name(c.name, why)) return error(ErrorCode::kInvalidTopicException, why);
              if (c.partitions <= 0 || c.partitions > kMaxPartitions)
                return error(ErrorCode::kInvalidPartitions, "number of partitions must be between 1 and 100000");
              for (const auto& [k, v] : c.configs)
                if (auto m = check_topic_config(k, v); !m.empty()) return error(ErrorCode::kInvalidConfig, m);
            }
            if (find(c.name)) return error(ErrorCode::kTopicAlreadyExists, "topic '" + c.name + "' already exists");
            return {};
          },
          [&](const DeleteTopic& c) -> TopicError {
            const TopicInfo* t = find(c.name);
            if (!t) return unknown_topic(c.name);
            if (c.id != TopicId{} && c.id != t->id)
              return error(ErrorCode::kUnknownTopicId, "topic '" + c.name + "' has another id");
            return {};
          },
          [&](const AddPartitions& c) -> TopicError {
            const TopicInfo* t = find(c.name);
            if (!t) return unknown_topic(c.name);
            if (c.total <= t->partitions)
              return error(ErrorCode::kInvalidPartitions,
                           "topic has " + std::to_string(t->partitions) + " partitions; the count can only grow");
            return {};
          },
          [&](const AlterConfigs& c) -> TopicError {
            // As Kafka: the configs are checked before the topic's existence.
            for (const auto& [k, v] : c.changes) {
              if (!known_topic_config(k)) return error(ErrorCode::kInvalidConfig, "unknown topic config '" + k + "'");
              if (v)
                if (auto m = check_topic_config(k, *v); !m.empty()) return error(ErrorCode::kInvalidConfig, m);
            }
            if (!find(c.name)) return unknown_topic(c.name);
            return {};
          },
      },
      cmd);
}

TopicDelta TopicTable::apply(const TopicCommand& cmd, int64_t offset) {
  assert(offset > offset_);
  offset_ = offset;
  TopicDelta d;
  d.topic = command_topic(cmd);
  if (!validate(cmd).ok()) return d;
  std::visit(Overloaded{
                 [&](const CreateTopic& c) {
                   topics_[c.name] = TopicInfo{c.name, c.id, c.partitions, c.internal, c.configs};
                   d.new_topic = !c.adopted;
                   if (!c.adopted)
                     for (int32_t p = 0; p < c.partitions; ++p) d.created.push_back(p);
                   d.configs = c.configs;
                 },
                 [&](const DeleteTopic& c) {
                   for (int32_t p = 0; p < topics_.at(c.name).partitions; ++p) d.removed.push_back(p);
                   topics_.erase(c.name);
                 },
                 [&](const AddPartitions& c) {
                   auto& t = topics_.at(c.name);
                   if (!c.adopted)
                     for (int32_t p = t.partitions; p < c.total; ++p) d.created.push_back(p);
                   t.partitions = c.total;
                   d.configs = t.configs;  // the new logs are made with them
                 },
                 [&](const AlterConfigs& c) {
                   auto& t = topics_.at(c.name);
                   auto next = c.replace ? std::map<std::string, std::string>{} : t.configs;
                   for (const auto& [k, v] : c.changes) {
                     if (v)
                       next[k] = *v;
                     else
                       next.erase(k);
                   }
                   t.configs = next;
                   d.configs = std::move(next);
                 },
             },
             cmd);
  return d;
}

}  // namespace millrace::cluster

#include "cluster/topics/topic_codec.h"

#include <nlohmann/json.hpp>

#include "cluster/metadata/metadata_image.h"

namespace millrace::cluster {

namespace {
using nlohmann::json;

std::string hex(const TopicId& id) { return topic_id_hex(id); }

TopicId unhex(const std::string& s) {
  if (s.size() != 32 || s.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw std::invalid_argument("topic id '" + s + "' is not 32 hex digits");
  TopicId out{};
  for (size_t i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>(std::stoi(s.substr(2 * i, 2), nullptr, 16));
  return out;
}

std::map<std::string, std::string> string_map(const json& j) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : j.items()) out[k] = v.get<std::string>();
  return out;
}

json parse(std::span<const uint8_t> text) {
  return json::parse(reinterpret_cast<const char*>(text.data()), reinterpret_cast<const char*>(text.data()) + text.size());
}

storage::Status corrupt(const char* what, const std::exception& e) {
  return {storage::Errc::kCorruptSegment, std::string(what) + ": " + e.what()};
}
}  // namespace

std::string encode_command(const LoggedCommand& lc) {
  json j;
  j["offset"] = lc.offset;
  std::visit(
      [&j](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        j["name"] = c.name;
        if constexpr (std::is_same_v<T, CreateTopic>) {
          j["type"] = "create_topic";
          j["id"] = hex(c.id);
          j["partitions"] = c.partitions;
          j["configs"] = c.configs;
          j["internal"] = c.internal;
          j["adopted"] = c.adopted;
        } else if constexpr (std::is_same_v<T, DeleteTopic>) {
          j["type"] = "delete_topic";
          j["id"] = hex(c.id);
        } else if constexpr (std::is_same_v<T, AddPartitions>) {
          j["type"] = "add_partitions";
          j["total"] = c.total;
          j["adopted"] = c.adopted;
        } else {
          j["type"] = "alter_configs";
          j["replace"] = c.replace;
          json changes = json::object();
          for (const auto& [k, v] : c.changes) changes[k] = v ? json(*v) : json(nullptr);
          j["changes"] = changes;
        }
      },
      lc.command);
  return j.dump();
}

storage::Result<LoggedCommand> decode_command(std::span<const uint8_t> text) {
  try {
    json j = parse(text);
    LoggedCommand lc;
    lc.offset = j.at("offset").get<int64_t>();
    auto type = j.at("type").get<std::string>();
    auto name = j.at("name").get<std::string>();
    if (type == "create_topic") {
      lc.command = CreateTopic{name, unhex(j.at("id").get<std::string>()), j.at("partitions").get<int32_t>(),
                               string_map(j.at("configs")), j.at("internal").get<bool>(), j.at("adopted").get<bool>()};
    } else if (type == "delete_topic") {
      lc.command = DeleteTopic{name, unhex(j.at("id").get<std::string>())};
    } else if (type == "add_partitions") {
      lc.command = AddPartitions{name, j.at("total").get<int32_t>(), j.at("adopted").get<bool>()};
    } else if (type == "alter_configs") {
      AlterConfigs a{name, {}, j.at("replace").get<bool>()};
      for (auto& [k, v] : j.at("changes").items())
        a.changes[k] = v.is_null() ? std::nullopt : std::optional<std::string>(v.get<std::string>());
      lc.command = std::move(a);
    } else {
      return storage::Status(storage::Errc::kCorruptSegment, "topic command: unknown type '" + type + "'");
    }
    return lc;
  } catch (const std::exception& e) {
    return corrupt("topic command", e);
  }
}

std::string encode_table(const TopicTable& table) {
  json j;
  j["version"] = 1;
  j["offset"] = table.applied_offset();
  j["topics"] = json::object();
  for (const auto& [name, t] : table.topics()) {
    json tj;
    tj["id"] = hex(t.id);
    tj["partitions"] = t.partitions;
    tj["internal"] = t.internal;
    tj["configs"] = t.configs;
    j["topics"][name] = tj;
  }
  return j.dump(1);
}

storage::Result<TopicTable> decode_table(std::span<const uint8_t> text) {
  try {
    json j = parse(text);
    TopicTable::Topics topics;
    for (auto& [name, t] : j.at("topics").items()) {
      TopicInfo info;
      info.name = name;
      info.id = unhex(t.at("id").get<std::string>());
      info.partitions = t.at("partitions").get<int32_t>();
      info.internal = t.value("internal", false);
      info.configs = string_map(t.value("configs", json::object()));
      topics[name] = std::move(info);
    }
    return TopicTable(std::move(topics), j.value("offset", int64_t{0}));
  } catch (const std::exception& e) {
    return corrupt("topic table", e);
  }
}

}  // namespace millrace::cluster

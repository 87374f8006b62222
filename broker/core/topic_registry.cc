#include "broker/core/topic_registry.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "storage/checkpoint.h"
#include "storage/index_file.h"

namespace millrace::broker {

namespace {
constexpr int16_t kNone = 0, kInvalidTopic = 17, kUnknownTopic = 3, kTopicExists = 36, kInvalidPartitions = 37,
                  kInvalidConfig = 40, kStorageError = 56;

std::string hex(const std::array<uint8_t, 16>& id) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::array<uint8_t, 16> unhex(const std::string& s) {
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 16 && 2 * i + 1 < s.size(); ++i)
    out[i] = static_cast<uint8_t>(std::stoi(s.substr(2 * i, 2), nullptr, 16));
  return out;
}

std::array<uint8_t, 16> random_id() {
  std::random_device rd;
  std::array<uint8_t, 16> id{};
  for (auto& b : id) b = static_cast<uint8_t>(rd());
  id[6] = (id[6] & 0x0f) | 0x40;  // UUID v4
  id[8] = (id[8] & 0x3f) | 0x80;
  return id;
}
}  // namespace


bool known_topic_config(const std::string& name) { return storage::LogConfig::is_known_name(name); }

std::string check_topic_config(const std::string& name, const std::string& value) {
  if (!known_topic_config(name)) return "unknown topic config '" + name + "'";
  auto r = storage::LogConfig{}.with_overrides({{name, value}});
  if (!r.ok()) return r.status().message();
  return {};
}

TopicRegistry::TopicRegistry(storage::LogManager& logs, std::filesystem::path file, storage::Env* env)
    : logs_(logs), file_(std::move(file)), env_(env) {}

bool TopicRegistry::valid_topic_name(const std::string& name, std::string& why) {
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

std::string TopicRegistry::load() {
  std::unique_lock lock(mu_);
  bool changed = false;
  auto bytes = storage::read_whole_file(file_, env_);
  if (!bytes.ok() && bytes.code() != storage::Errc::kNotFound)
    return "cannot read " + file_.string() + ": " + bytes.status().to_string();
  if (bytes.ok()) {
    std::string text;
    if (!bytes->empty() && (*bytes)[0] == '{') {
      text.assign(bytes->begin(), bytes->end());  // the unframed format before version 2
      changed = true;                              // rewritten framed below
    } else {
      auto framed = storage::decode_framed(*bytes, "topics.json");
      if (!framed.ok()) return "cannot read " + file_.string() + ": " + framed.status().to_string();
      if (framed->version != kFileVersion)
        return "cannot read " + file_.string() + ": unknown version " + std::to_string(framed->version);
      text.assign(framed->payload.begin(), framed->payload.end());
    }
    try {
      auto j = nlohmann::json::parse(text);
      for (auto& [name, t] : j.at("topics").items()) {
        TopicInfo info;
        info.name = name;
        info.id = unhex(t.at("id").get<std::string>());
        info.partitions = t.at("partitions").get<int32_t>();
        info.internal = t.value("internal", false);
        const nlohmann::json configs = t.value("configs", nlohmann::json::object());
        for (auto& [k, v] : configs.items()) info.configs[k] = v.get<std::string>();
        topics_[name] = std::move(info);
      }
    } catch (const std::exception& e) {
      return "cannot read " + file_.string() + ": " + e.what();
    }
  }
  // Adopt partitions on disk that the file does not know.
  std::map<std::string, int32_t> on_disk;
  for (const auto& p : logs_.partitions())
    on_disk[p.tp.topic] = std::max(on_disk[p.tp.topic], p.tp.partition + 1);
  for (const auto& [name, n] : on_disk) {
    auto& t = topics_[name];
    if (t.name.empty()) {
      t.name = name;
      t.id = random_id();
      t.internal = name.rfind("__", 0) == 0;
      changed = true;
    }
    if (t.partitions < n) {
      t.partitions = n;
      changed = true;
    }
  }
  // A partition the file lists but no log dir has was lost (its directory was
  // fsynced before the file listed it): offline, never re-created empty, which
  // would restart its offsets at 0 under its consumers' committed offsets.
  for (auto& [name, t] : topics_) {
    if (!t.configs.empty()) (void)logs_.set_topic_config(name, t.configs);
    for (int32_t p = 0; p < t.partitions; ++p)
      if (!logs_.get({name, p}))
        (void)logs_.add_offline({name, p}, storage::Status(storage::Errc::kCorruptSegment,
                                                           name + "-" + std::to_string(p) + " is listed in " +
                                                               file_.string() + " but missing from every log dir"));
  }
  if (changed) return save(lock);
  return {};
}

std::string TopicRegistry::save(std::unique_lock<std::mutex>& lock) {
  nlohmann::json j;
  j["version"] = 1;
  j["topics"] = nlohmann::json::object();
  for (const auto& [name, t] : topics_) {
    nlohmann::json tj;
    tj["id"] = hex(t.id);
    tj["partitions"] = t.partitions;
    tj["internal"] = t.internal;
    tj["configs"] = t.configs;
    j["topics"][name] = tj;
  }
  const uint64_t version = ++version_;
  lock.unlock();  // the write and its fsyncs run without the lock every request takes
  std::string text = j.dump(1);
  {
    std::lock_guard save(save_mu_);
    if (version < saved_version_) return {};  // a newer table is on disk already
    auto bytes = storage::encode_framed(
        kFileVersion, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    if (auto st = storage::write_file_atomic(file_, bytes, env_); !st.ok())
      return "cannot write " + file_.string() + ": " + st.to_string();
    saved_version_ = version;
  }
  if (on_change_) on_change_();
  return {};
}

std::optional<TopicInfo> TopicRegistry::get(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second;
}

std::vector<TopicInfo> TopicRegistry::all() const {
  std::lock_guard lock(mu_);
  std::vector<TopicInfo> out;
  for (const auto& [n, t] : topics_) out.push_back(t);
  return out;
}

int16_t TopicRegistry::create(const std::string& name, int32_t partitions,
                              const std::map<std::string, std::string>& configs, bool internal, bool validate_only,
                              std::string& message) {
  if (!valid_topic_name(name, message)) return kInvalidTopic;
  if (partitions <= 0 || partitions > 100000) {
    message = "number of partitions must be between 1 and 100000";
    return kInvalidPartitions;
  }
  for (const auto& [k, v] : configs) {
    message = check_topic_config(k, v);
    if (!message.empty()) return kInvalidConfig;
  }
  std::unique_lock lock(mu_);
  if (topics_.count(name) || busy_.count(name)) {
    message = "topic '" + name + "' already exists";
    return kTopicExists;
  }
  if (validate_only) return kNone;
  // The partition logs (directories, files, fsyncs) are made without the lock
  // that every request's get() takes; the name is reserved meanwhile.
  busy_.insert(name);
  lock.unlock();
  TopicInfo t{name, random_id(), partitions, internal, configs};
  for (int32_t p = 0; p < partitions; ++p) {
    auto r = logs_.create({name, p}, configs);
    if (!r.ok() && r.code() != storage::Errc::kAlreadyExists) {
      for (int32_t q = 0; q < p; ++q) (void)logs_.remove({name, q});
      message = r.status().to_string();
      lock.lock();
      busy_.erase(name);
      return kStorageError;
    }
  }
  lock.lock();
  busy_.erase(name);
  topics_[name] = std::move(t);
  message = save(lock);
  return message.empty() ? kNone : kStorageError;
}

int16_t TopicRegistry::remove(const std::string& name, std::string& message) {
  std::unique_lock lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end() || busy_.count(name)) {
    message = "topic '" + name + "' does not exist";
    return kUnknownTopic;
  }
  const int32_t partitions = it->second.partitions;
  busy_.insert(name);
  lock.unlock();
  for (int32_t p = 0; p < partitions; ++p) (void)logs_.remove({name, p});  // without the lock
  lock.lock();
  busy_.erase(name);
  topics_.erase(name);
  message = save(lock);
  return message.empty() ? kNone : kStorageError;
}

int16_t TopicRegistry::add_partitions(const std::string& name, int32_t total, bool validate_only,
                                      std::string& message) {
  std::unique_lock lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end() || busy_.count(name)) {
    message = "topic '" + name + "' does not exist";
    return kUnknownTopic;
  }
  if (total <= it->second.partitions) {
    message = "topic has " + std::to_string(it->second.partitions) + " partitions; the count can only grow";
    return kInvalidPartitions;
  }
  if (validate_only) return kNone;
  const int32_t from = it->second.partitions;
  const auto configs = it->second.configs;
  busy_.insert(name);
  lock.unlock();
  int32_t made = from;
  for (int32_t p = from; p < total; ++p, ++made) {  // without the lock
    auto r = logs_.create({name, p}, configs);
    if (!r.ok() && r.code() != storage::Errc::kAlreadyExists) {
      message = r.status().to_string();
      break;
    }
  }
  lock.lock();
  busy_.erase(name);
  topics_[name].partitions = made;
  const bool failed = made < total;
  std::string saved = save(lock);
  if (failed) return kStorageError;
  message = saved;
  return message.empty() ? kNone : kStorageError;
}

int16_t TopicRegistry::alter_configs(const std::string& name,
                                     const std::map<std::string, std::optional<std::string>>& changes, bool replace,
                                     bool validate_only, std::string& message) {
  for (const auto& [k, v] : changes) {
    if (!known_topic_config(k)) {
      message = "unknown topic config '" + k + "'";
      return kInvalidConfig;
    }
    if (v) {
      message = check_topic_config(k, *v);
      if (!message.empty()) return kInvalidConfig;
    }
  }
  std::unique_lock lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end() || busy_.count(name)) {
    message = "topic '" + name + "' does not exist";
    return kUnknownTopic;
  }
  auto next = replace ? std::map<std::string, std::string>{} : it->second.configs;
  for (const auto& [k, v] : changes) {
    if (v)
      next[k] = *v;
    else
      next.erase(k);
  }
  if (validate_only) return kNone;
  auto st = logs_.set_topic_config(name, next);
  if (!st.ok()) {
    message = st.to_string();
    return kInvalidConfig;
  }
  it->second.configs = std::move(next);
  message = save(lock);
  return message.empty() ? kNone : kStorageError;
}

}  // namespace millrace::broker

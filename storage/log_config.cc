#include "storage/log_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <string_view>

namespace millrace::storage {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_i64(const std::string& value, int64_t& out) {
  std::string_view s = trim(value);  // Kafka's ConfigDef trims numbers
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// Kafka's ConfigException text: "Invalid value V for configuration K: why".
// (append, not operator+: g++ 12 reports a false -Wrestrict on chains of it, GCC bug 105651)
Status invalid(std::string_view name, std::string_view value, std::string_view why) {
  std::string m = "Invalid value ";
  m.append(value).append(" for configuration ").append(name).append(": ").append(why);
  return Status(Errc::kInvalidArgument, std::move(m));
}

enum class Kind { kLong, kInt, kBool };

struct Unenforced {
  LogConfig::UnenforcedKey key;
  Kind kind;
  int64_t min, max;
};

// Kafka 4.1's LogConfig definitions of the keys Millrace does not act on.
const std::vector<Unenforced>& unenforced_table() {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  static const std::vector<Unenforced> kTable = {
      {{"compression.gzip.level", "-1", "gzip level for compression.type=gzip (-1 or 1..9)"}, Kind::kInt, -1, 9},
      {{"compression.lz4.level", "9", "lz4 level for compression.type=lz4"}, Kind::kInt, 1, 17},
      {{"compression.zstd.level", "3", "zstd level for compression.type=zstd"}, Kind::kInt, -131072, 22},
      {{"file.delete.delay.ms", "60000", "delay before a deleted segment file is removed"}, Kind::kLong, 0, kMax},
      {{"local.retention.bytes", "-2", "tiered storage: bytes kept locally (-2 = retention.bytes)"}, Kind::kLong, -2,
       kMax},
      {{"local.retention.ms", "-2", "tiered storage: time kept locally (-2 = retention.ms)"}, Kind::kLong, -2, kMax},
      {{"max.compaction.lag.ms", "9223372036854775807", "longest a record stays uncompacted"}, Kind::kLong, 1, kMax},
      {{"min.compaction.lag.ms", "0", "shortest a record stays uncompacted"}, Kind::kLong, 0, kMax},
      {{"message.timestamp.after.max.ms", "3600000", "how far a CreateTime may be ahead of the broker's clock"},
       Kind::kLong, 0, kMax},
      {{"message.timestamp.before.max.ms", "9223372036854775807", "how far a CreateTime may be behind the broker's clock"},
       Kind::kLong, 0, kMax},
      {{"preallocate", "false", "preallocate segment files"}, Kind::kBool, 0, 0},
      {{"remote.log.copy.disable", "false", "tiered storage: stop copying segments to remote storage"}, Kind::kBool, 0,
       0},
      {{"remote.log.delete.on.disable", "false", "tiered storage: delete remote data when it is disabled"},
       Kind::kBool, 0, 0},
      {{"remote.storage.enable", "false", "tiered storage (only false: the broker has none)"}, Kind::kBool, 0, 0},
      {{"segment.jitter.ms", "0", "random jitter subtracted from segment.ms"}, Kind::kLong, 0, kMax},
      {{"unclean.leader.election.enable", "false", "elect an out-of-sync replica (one node: no effect)"}, Kind::kBool,
       0, 0},
  };
  return kTable;
}

const Unenforced* find_unenforced(const std::string& name) {
  for (const auto& u : unenforced_table())
    if (name == u.key.name) return &u;
  return nullptr;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// leader/follower.replication.throttled.replicas: "", "*" or
// "partition:broker,..." (Kafka's ThrottledReplicaListValidator); the value kept.
Result<std::string> check_throttled_replicas(const std::string& name, const std::string& value) {
  std::string_view all = trim(value);
  if (all.empty() || all == "*") return std::string(all);
  std::string_view rest = all;
  bool ok = true;
  while (ok) {
    size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    size_t colon = item.find(':');
    auto digits = [](std::string_view d) {
      return !d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    ok = colon != std::string_view::npos && digits(trim(item.substr(0, colon))) &&
         digits(trim(item.substr(colon + 1)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (!ok) {
    std::string shown = "[";
    shown.append(all).append("]");
    std::string why = name;
    why.append(" must be the literal '*' or a list of replicas in the following format: "
               "[partitionId]:[brokerId],[partitionId]:[brokerId],...");
    return invalid(name, shown, why);
  }
  return std::string(all);
}

// Validates a value of an unenforced key by Kafka's rules; returns the value to keep.
Result<std::string> check_unenforced(const Unenforced& u, const std::string& value) {
  const std::string name = u.key.name;
  switch (u.kind) {
    case Kind::kBool: {
      std::string v = lower(trim(value));
      if (v != "true" && v != "false") return invalid(name, value, "Expected value to be either true or false");
      if (name == "remote.storage.enable" && v == "true")
        return Status(Errc::kInvalidArgument,
                      "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with "
                      "remote log storage.");
      return v;
    }
    case Kind::kInt:
    case Kind::kLong: {
      int64_t n = 0;
      bool is_int = u.kind == Kind::kInt;
      if (!parse_i64(value, n) || (is_int && (n < INT32_MIN || n > INT32_MAX)))
        return invalid(name, value, is_int ? "Not a number of type INT" : "Not a number of type LONG");
      if (name == "compression.gzip.level" && n != -1 && (n < 1 || n > 9))
        return invalid(name, value, "Value must be between 1 and 9 or equal to -1");
      if (n < u.min) return invalid(name, value, std::string("Value must be at least ").append(std::to_string(u.min)));
      if (n > u.max)
        return invalid(name, value, std::string("Value must be no more than ").append(std::to_string(u.max)));
      return std::to_string(n);
    }
  }
  return invalid(name, value, "?");
}

const std::set<std::string>& names() {
  static const std::set<std::string> kNames = {
      "segment.bytes", "segment.ms", "segment.index.bytes", "index.interval.bytes",
      "retention.ms", "retention.bytes", "cleanup.policy", "delete.retention.ms",
      "min.cleanable.dirty.ratio", "max.message.bytes", "message.timestamp.type",
      "flush.messages", "flush.ms", "compression.type", "min.insync.replicas", "write.caching",
      "leader.replication.throttled.replicas", "follower.replication.throttled.replicas"};
  return kNames;
}

}  // namespace

bool LogConfig::is_known_name(const std::string& name) {
  return names().count(name) != 0 || find_unenforced(name) != nullptr;
}

const std::vector<LogConfig::UnenforcedKey>& LogConfig::unenforced_keys() {
  static const std::vector<UnenforcedKey> kKeys = [] {
    std::vector<UnenforcedKey> out;
    for (const auto& u : unenforced_table()) out.push_back(u.key);
    return out;
  }();
  return kKeys;
}

Result<LogConfig> LogConfig::with_overrides(const std::map<std::string, std::string>& overrides) const {
  LogConfig c = *this;
  for (const auto& [name, value] : overrides) {
    // clang before 16 cannot capture structured bindings (the fuzz build): name them.
    const std::string& key = name;
    const std::string& val = value;
    int64_t n = 0;
    auto bad = [&key, &val] {
      std::string why = key == "cleanup.policy"           ? "String must be one of: compact, delete"
                        : key == "message.timestamp.type" ? "String must be one of: CreateTime, LogAppendTime"
                        : "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer";
      return invalid(key, val, why);
    };
    if (name == "leader.replication.throttled.replicas" || name == "follower.replication.throttled.replicas") {
      auto v = check_throttled_replicas(name, value);
      if (!v.ok()) return v.status();
      (name.front() == 'l' ? c.leader_throttled_replicas : c.follower_throttled_replicas) = v.value();
    } else if (const Unenforced* u = find_unenforced(name)) {
      auto v = check_unenforced(*u, value);
      if (!v.ok()) return v.status();
      c.unenforced[name] = v.value();
    } else if (name == "cleanup.policy") {
      bool del = false, compact = false;
      std::string_view rest = value;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item == "delete") del = true;
        else if (item == "compact") compact = true;
        else return bad();
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      if (!del && !compact) return bad();
      c.cleanup_delete = del;
      c.cleanup_compact = compact;
    } else if (name == "min.cleanable.dirty.ratio") {
      char* end = nullptr;
      double d = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') return invalid(name, value, "Not a number of type DOUBLE");
      if (d < 0) return invalid(name, value, "Value must be at least 0");
      if (d > 1) return invalid(name, value, "Value must be no more than 1");
      c.min_cleanable_dirty_ratio = d;
    } else if (name == "message.timestamp.type") {
      if (value == "CreateTime") c.log_append_time = false;
      else if (value == "LogAppendTime") c.log_append_time = true;
      else return bad();
    } else if (name == "write.caching") {
      if (value == "true") c.write_caching = true;
      else if (value == "false") c.write_caching = false;
      else return invalid(name, value, "Expected value to be either true or false");
    } else if (name == "compression.type") {
      static const std::set<std::string> kCodecs = {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"};
      if (!kCodecs.count(value)) return bad();
      c.compression_type = value;
    } else if (is_known_name(name)) {
      if (!parse_i64(value, n)) return invalid(name, value, "Not a number of type LONG");
      if (name == "segment.bytes") { if (n < 14) return invalid(name, value, "Value must be at least 14"); c.segment_bytes = n; }
      else if (name == "segment.ms") { if (n < 1) return invalid(name, value, "Value must be at least 1"); c.segment_ms = n; }
      else if (name == "segment.index.bytes") { if (n < 8) return invalid(name, value, "Value must be at least 8"); c.segment_index_bytes = n; }
      else if (name == "index.interval.bytes") { if (n < 0) return invalid(name, value, "Value must be at least 0"); if (n > INT32_MAX) return invalid(name, value, "Value must be no more than 2147483647"); c.index_interval_bytes = static_cast<int32_t>(n); }
      else if (name == "retention.ms") { if (n < -1) return invalid(name, value, "Value must be at least -1"); c.retention_ms = n; }
      else if (name == "retention.bytes") { if (n < -1) return invalid(name, value, "Value must be at least -1"); c.retention_bytes = n; }
      else if (name == "delete.retention.ms") { if (n < 0) return invalid(name, value, "Value must be at least 0"); c.delete_retention_ms = n; }
      else if (name == "max.message.bytes") { if (n < 0) return invalid(name, value, "Value must be at least 0"); if (n > INT32_MAX) return invalid(name, value, "Value must be no more than 2147483647"); c.max_message_bytes = static_cast<int32_t>(n); }
      else if (name == "flush.messages") { if (n < 1) return invalid(name, value, "Value must be at least 1"); c.flush_messages = n; }
      else if (name == "flush.ms") { if (n < 0) return invalid(name, value, "Value must be at least 0"); c.flush_ms = n; }
      else if (name == "min.insync.replicas") { if (n < 1) return invalid(name, value, "Value must be at least 1"); if (n > INT32_MAX) return invalid(name, value, "Value must be no more than 2147483647"); c.min_insync_replicas = static_cast<int32_t>(n); }
    } else {
      return Status(Errc::kInvalidArgument, std::string("Unknown topic config name: ").append(name));
    }
  }
  return c;
}

std::map<std::string, std::string> LogConfig::to_map() const {
  std::string policy = cleanup_delete && cleanup_compact ? "compact,delete" : cleanup_compact ? "compact" : "delete";
  std::map<std::string, std::string> out = {
      {"segment.bytes", std::to_string(segment_bytes)},
      {"segment.ms", std::to_string(segment_ms)},
      {"segment.index.bytes", std::to_string(segment_index_bytes)},
      {"index.interval.bytes", std::to_string(index_interval_bytes)},
      {"retention.ms", std::to_string(retention_ms)},
      {"retention.bytes", std::to_string(retention_bytes)},
      {"cleanup.policy", policy},
      {"delete.retention.ms", std::to_string(delete_retention_ms)},
      {"min.cleanable.dirty.ratio", std::to_string(min_cleanable_dirty_ratio)},
      {"max.message.bytes", std::to_string(max_message_bytes)},
      {"message.timestamp.type", log_append_time ? "LogAppendTime" : "CreateTime"},
      {"flush.messages", std::to_string(flush_messages)},
      {"flush.ms", std::to_string(flush_ms)},
      {"compression.type", compression_type},
      {"min.insync.replicas", std::to_string(min_insync_replicas)},
      {"write.caching", write_caching ? "true" : "false"},
      {"leader.replication.throttled.replicas", leader_throttled_replicas},
      {"follower.replication.throttled.replicas", follower_throttled_replicas},
  };
  for (const auto& u : unenforced_table()) {
    auto it = unenforced.find(u.key.name);
    out[u.key.name] = it == unenforced.end() ? u.key.default_value : it->second;
  }
  return out;
}

}  // namespace millrace::storage

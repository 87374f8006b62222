#include "storage/log_config.h"

#include <charconv>
#include <set>
#include <string_view>

namespace millrace::storage {
namespace {

bool parse_i64(const std::string& s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

const std::set<std::string>& names() {
  static const std::set<std::string> kNames = {
      "segment.bytes", "segment.ms", "segment.index.bytes", "index.interval.bytes",
      "retention.ms", "retention.bytes", "cleanup.policy", "delete.retention.ms",
      "min.cleanable.dirty.ratio", "max.message.bytes", "message.timestamp.type",
      "flush.messages", "flush.ms", "compression.type", "min.insync.replicas"};
  return kNames;
}

}  // namespace

bool LogConfig::is_known_name(const std::string& name) { return names().count(name) != 0; }

Result<LogConfig> LogConfig::with_overrides(const std::map<std::string, std::string>& overrides) const {
  LogConfig c = *this;
  for (const auto& [name, value] : overrides) {
    // (clang before 16 cannot capture structured bindings: the fuzz build)
    auto bad = [&key = name, &val = value] {
      return Status(Errc::kInvalidArgument, "invalid value '" + val + "' for " + key);
    };
    int64_t n = 0;
    if (name == "cleanup.policy") {
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
      if (value.empty() || *end != '\0' || d < 0 || d > 1) return bad();
      c.min_cleanable_dirty_ratio = d;
    } else if (name == "message.timestamp.type") {
      if (value == "CreateTime") c.log_append_time = false;
      else if (value == "LogAppendTime") c.log_append_time = true;
      else return bad();
    } else if (name == "compression.type") {
      static const std::set<std::string> kCodecs = {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"};
      if (!kCodecs.count(value)) return bad();
      c.compression_type = value;
    } else if (is_known_name(name)) {
      if (!parse_i64(value, n)) return bad();
      if (name == "segment.bytes") { if (n < 14) return bad(); c.segment_bytes = n; }
      else if (name == "segment.ms") { if (n < 1) return bad(); c.segment_ms = n; }
      else if (name == "segment.index.bytes") { if (n < 8) return bad(); c.segment_index_bytes = n; }
      else if (name == "index.interval.bytes") { if (n < 0 || n > INT32_MAX) return bad(); c.index_interval_bytes = static_cast<int32_t>(n); }
      else if (name == "retention.ms") { if (n < -1) return bad(); c.retention_ms = n; }
      else if (name == "retention.bytes") { if (n < -1) return bad(); c.retention_bytes = n; }
      else if (name == "delete.retention.ms") { if (n < 0) return bad(); c.delete_retention_ms = n; }
      else if (name == "max.message.bytes") { if (n < 0 || n > INT32_MAX) return bad(); c.max_message_bytes = static_cast<int32_t>(n); }
      else if (name == "flush.messages") { if (n < 1) return bad(); c.flush_messages = n; }
      else if (name == "flush.ms") { if (n < 0) return bad(); c.flush_ms = n; }
      else if (name == "min.insync.replicas") { if (n < 1 || n > INT32_MAX) return bad(); c.min_insync_replicas = static_cast<int32_t>(n); }
    } else {
      return Status(Errc::kInvalidArgument, "unknown topic config " + name);
    }
  }
  return c;
}

std::map<std::string, std::string> LogConfig::to_map() const {
  std::string policy = cleanup_delete && cleanup_compact ? "compact,delete" : cleanup_compact ? "compact" : "delete";
  return {
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
  };
}

}  // namespace millrace::storage

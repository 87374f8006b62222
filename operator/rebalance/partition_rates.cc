#include "operator/rebalance/partition_rates.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace millrace::op::rebalance {

namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
bool blank(char c) { return c == ' ' || c == '\t'; }

// One sample line taken apart: name{labels} value [timestamp].
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

class LineReader {
 public:
  explicit LineReader(std::string_view s) : s_(s) {}

  // "" when good, else what is wrong.
  std::string read(Sample& out) {
    if (!name_start(peek())) return "no metric name";
    while (name_char(peek())) out.name += s_[i_++];
    if (peek() == '{') {
      ++i_;
      if (auto e = labels(out.labels); !e.empty()) return e;
    }
    if (!blank(peek())) return "no space before the value";
    skip_blank();
    const size_t start = i_;
    while (i_ < s_.size() && !blank(s_[i_])) ++i_;
    auto v = number(s_.substr(start, i_ - start));
    if (!v) return "value '" + std::string(s_.substr(start, i_ - start)) + "' is not a number";
    out.value = *v;
    skip_blank();
    if (i_ < s_.size()) {  // a timestamp (ms), ignored
      int64_t ts = 0;
      auto [end, ec] = std::from_chars(s_.data() + i_, s_.data() + s_.size(), ts);
      if (ec != std::errc()) return "timestamp is not a number";
      i_ = static_cast<size_t>(end - s_.data());
      skip_blank();
      if (i_ < s_.size()) return "text after the timestamp";
    }
    return "";
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_blank() {
    while (blank(peek())) ++i_;
  }

  std::string labels(std::map<std::string, std::string>& out) {
    for (;;) {
      skip_blank();
      if (peek() == '}') {
        ++i_;
        return "";
      }
      if (!name_start(peek()) || peek() == ':') return "bad label name";
      std::string name;
      while (name_char(peek()) && peek() != ':') name += s_[i_++];
      skip_blank();
      if (peek() != '=') return "label " + name + " without '='";
      ++i_;
      skip_blank();
      if (peek() != '"') return "label " + name + " value not quoted";
      ++i_;
      std::string value;
      for (;;) {
        if (i_ >= s_.size()) return "label " + name + " value not closed";
        const char c = s_[i_++];
        if (c == '"') break;
        if (c != '\\') {
          value += c;
          continue;
        }
        const char e = peek();
        ++i_;
        if (e == '\\' || e == '"') value += e;
        else if (e == 'n') value += '\n';
        else return "label " + name + " has a bad escape";
      }
      if (!out.emplace(name, std::move(value)).second) return "label " + name + " twice";
      skip_blank();
      if (peek() == ',') ++i_;
      else if (peek() != '}') return "labels not separated by ','";
    }
  }

  static std::optional<double> number(std::string_view t) {
    if (t == "+Inf" || t == "Inf") return std::numeric_limits<double>::infinity();
    if (t == "-Inf") return -std::numeric_limits<double>::infinity();
    if (t == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (!t.empty() && t[0] == '+') t.remove_prefix(1);
    double v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
    return v;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

ParsedCounters parse_partition_counters(std::string_view text) {
  ParsedCounters out;
  std::set<TopicPartition> seen_in, seen_out;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && blank(line.front())) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](const std::string& why) {
      return ParsedCounters{{}, "line " + std::to_string(line_no) + ": " + why};
    };
    Sample s;
    if (auto e = LineReader(line).read(s); !e.empty()) return fail(e);
    const bool in = s.name == kBytesInFamily;
    if (!in && s.name != kBytesOutFamily) continue;
    auto topic = s.labels.find("topic"), partition = s.labels.find("partition");
    if (topic == s.labels.end() || topic->second.empty()) return fail(s.name + " without a topic label");
    if (partition == s.labels.end()) return fail(s.name + " without a partition label");
    const std::string& ptext = partition->second;
    int32_t p = -1;
    auto [end, ec] = std::from_chars(ptext.data(), ptext.data() + ptext.size(), p);
    if (ec != std::errc() || end != ptext.data() + ptext.size() || p < 0)
      return fail(s.name + " partition '" + ptext + "' is not a partition number");
    if (!std::isfinite(s.value) || s.value < 0) return fail(s.name + " value must be finite and not negative");
    const TopicPartition tp{topic->second, p};
    if (!(in ? seen_in : seen_out).insert(tp).second)
      return fail(s.name + " " + tp.first + "-" + std::to_string(p) + " twice");
    (in ? out.counters[tp].in : out.counters[tp].out) = s.value;
  }
  return out;
}

PartitionCounters rates_between(const CounterSample& before, const CounterSample& after) {
  PartitionCounters out;
  if (after.at_ms <= before.at_ms) return out;
  const double seconds = static_cast<double>(after.at_ms - before.at_ms) / 1000.0;
  auto rate = [&](double was, double now) { return (now >= was ? now - was : now) / seconds; };
  for (const auto& [tp, now] : after.counters) {
    auto it = before.counters.find(tp);
    const PartitionBytes was = it == before.counters.end() ? PartitionBytes{} : it->second;
    out[tp] = {rate(was.in, now.in), rate(was.out, now.out)};
  }
  return out;
}

}  // namespace millrace::op::rebalance

// millrace consume: print records of a topic (group or assigned partitions).
//
// --format tokens (kcat style): %t topic, %p partition, %o offset, %k key, %s value,
// %T timestamp (ms), %h headers (k=v,k=v), \n \t; default "%s\n".
//
// --max-rate R processes at most R records per second (a token bucket,
// rate_limiter.h): a slow consumer for tests and load experiments. Its offsets
// are committed by hand, only for records already processed, every second and
// at exit. --quiet counts records without printing them. SIGTERM and SIGINT end
// the loop: the processed positions are committed and the consumer leaves its
// group at once (a scaled-down pod's partitions move without a session timeout).
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "client/admin.h"
#include "client/cli/common.h"
#include "client/cli/rate_limiter.h"
#include "client/consumer.h"

namespace millrace::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

std::string format_record(const std::string& fmt, const client::ConsumerRecord& r) {
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if ((c == '%' || c == '\\') && i + 1 < fmt.size()) {
      char n = fmt[++i];
      if (c == '\\') { out += n == 'n' ? '\n' : n == 't' ? '\t' : n; continue; }
      switch (n) {
        case 't': out += r.topic; break;
        case 'p': out += std::to_string(r.partition); break;
        case 'o': out += std::to_string(r.offset); break;
        case 'k': out += r.key.value_or(""); break;
        case 's': out += r.value.value_or(""); break;
        case 'T': out += std::to_string(r.timestamp_ms); break;
        case 'h':
          for (size_t k = 0; k < r.headers.size(); ++k)
            out += (k ? "," : "") + r.headers[k].key + "=" + r.headers[k].value.value_or("");
          break;
        case '%': out += '%'; break;
        default: out += '%'; out += n;
      }
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

void add_consume_command(CLI::App& app, GlobalOptions& g, int& rc) {
  struct Opts {
    std::string topic, group, format = "%s\\n", assignor = "range";
    std::vector<int32_t> partitions;
    bool from_beginning = false;
    int64_t offset = -1, from_time = -1, max_messages = -1, idle_exit_ms = -1;
    double max_rate = 0;
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("consume", "print records of a topic");
  cmd->add_option("-t,--topic", o->topic, "topic")->required();
  cmd->add_option("-g,--group", o->group, "consumer group (commits offsets; partitions assigned by the group)");
  cmd->add_option("-p,--partition", o->partitions, "partitions to read without a group (repeatable; default all)");
  cmd->add_flag("--from-beginning", o->from_beginning, "start at the earliest offset (when nothing is committed)");
  cmd->add_option("--offset", o->offset, "start at this offset in every chosen partition");
  cmd->add_option("--from-time", o->from_time, "start at the first record with timestamp >= this (ms since epoch)");
  cmd->add_option("-n,--max-messages", o->max_messages, "exit after this many records");
  cmd->add_option("--idle-exit-ms", o->idle_exit_ms, "exit when no record arrives for this long");
  cmd->add_option("-f,--format", o->format, "output format: %t %p %o %k %s %T %h \\n \\t")->capture_default_str();
  cmd->add_option("--max-rate", o->max_rate, "process at most this many records per second (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("-q,--quiet", o->quiet, "do not print records (count them)");
  cmd->add_option("--assignor", o->assignor, "range or cooperative-sticky")
      ->check(CLI::IsMember({"range", "cooperative-sticky"}))->capture_default_str();
  cmd->callback([&g, &rc, o] {
    client::ConsumerConfig cc;
    cc.client = g.client();
    cc.group_id = o->group;
    cc.assignor = o->assignor;
    cc.auto_offset_reset = o->from_beginning ? "earliest" : "latest";
    cc.auto_commit_interval_ms = 1000;
    // With --max-messages the last poll may return more than is printed, and
    // with --max-rate records wait their turn: commit exactly the printed
    // positions (every second and at the end) instead of auto-committing.
    const bool manual_commit = o->max_messages >= 0 || o->max_rate > 0;
    cc.enable_auto_commit = !manual_commit;
    g_stop.store(false);
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGINT, on_stop_signal);
    std::vector<client::TopicPartition> tps;
    bool explicit_start = o->offset >= 0 || o->from_time >= 0;
    if (o->group.empty() || explicit_start) {
      client::Admin admin(g.client());
      auto d = admin.describe_topic(o->topic);
      if (!d.ok()) { rc = report("consume from '" + o->topic + "'", d.error()); return; }
      for (auto& p : d->partitions)
        if (o->partitions.empty() || std::find(o->partitions.begin(), o->partitions.end(), p.partition) != o->partitions.end())
          tps.push_back({o->topic, p.partition});
    }
    client::Consumer consumer(cc);
    if (!o->group.empty() && !explicit_start) {
      consumer.subscribe({o->topic});
    } else {
      consumer.assign(tps);
      client::Status st;
      if (o->offset >= 0) for (auto& tp : tps) st = consumer.seek(tp, o->offset);
      else if (o->from_time >= 0) st = consumer.seek_to_time(tps, o->from_time);
      else if (o->from_beginning) st = consumer.seek_to_beginning(tps);
      if (!st.ok()) { rc = report("seek", st); return; }
    }
    int64_t count = 0;
    std::map<client::TopicPartition, int64_t> printed;
    auto idle_since = std::chrono::steady_clock::now();
    std::optional<RateLimiter> limiter;
    if (o->max_rate > 0) limiter.emplace(o->max_rate, RateLimiter::Clock::now());
    auto last_commit = std::chrono::steady_clock::now();
    auto commit_printed = [&] {
      // Only partitions still assigned: after a rebalance another member owns the
      // rest, and a stale position must not overwrite its commits.
      auto owned = consumer.assignment();
      std::erase_if(printed, [&](const auto& kv) { return std::find(owned.begin(), owned.end(), kv.first) == owned.end(); });
      if (o->group.empty() || printed.empty()) return;
      auto st = consumer.commit_sync(printed);
      if (!st.ok()) std::cerr << "commit offsets of group '" << o->group << "': " << st.to_string() << "\n";
      last_commit = std::chrono::steady_clock::now();
    };
    // Waits for the limiter's next token; false when stopped meanwhile.
    auto await_turn = [&] {
      for (;;) {
        if (g_stop.load()) return false;
        auto wait = limiter->acquire(RateLimiter::Clock::now());
        if (wait.count() == 0) return true;
        std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(wait, std::chrono::milliseconds(100)));
      }
    };
    while ((o->max_messages < 0 || count < o->max_messages) && !g_stop.load()) {
      auto r = consumer.poll(std::chrono::milliseconds(200));
      if (!r.ok()) { rc = report("consume from '" + o->topic + "'", r.error()); return; }
      if (!r->empty()) idle_since = std::chrono::steady_clock::now();
      for (auto& rec : *r) {
        client::TopicPartition tp{rec.topic, rec.partition};
        if ((o->max_messages >= 0 && count >= o->max_messages) || (limiter && !await_turn())) {
          printed.emplace(tp, rec.offset);   // returned but not printed: the next consumer starts here
          continue;
        }
        if (!o->quiet) std::cout << format_record(o->format, rec);
        printed[tp] = rec.offset + 1;
        ++count;
        if (manual_commit && o->max_messages < 0 && std::chrono::steady_clock::now() - last_commit > std::chrono::seconds(1))
          commit_printed();
      }
      std::cout.flush();
      if (manual_commit && o->max_messages < 0 && std::chrono::steady_clock::now() - last_commit > std::chrono::seconds(1))
        commit_printed();
      if (o->idle_exit_ms >= 0 && std::chrono::steady_clock::now() - idle_since > std::chrono::milliseconds(o->idle_exit_ms)) break;
    }
    // Commit exactly what was printed (records past --max-messages were not).
    // Like Kafka's consumer, commit a position for every assigned partition.
    for (auto& tp : consumer.assignment())
      if (!printed.count(tp))
        if (auto pos = consumer.position(tp)) printed[tp] = *pos;
    if (!o->group.empty() && !printed.empty()) {
      auto st = consumer.commit_sync(printed);
      if (!st.ok()) { rc = report("commit offsets of group '" + o->group + "'", st); }
    }
    consumer.close();
    std::cerr << "consumed " << count << " records\n";
  });
}

}  // namespace millrace::cli

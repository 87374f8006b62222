// millrace consume: print records of a topic (group or assigned partitions).
//
// --format tokens (kcat style): %t topic, %p partition, %o offset, %k key, %s value,
// %T timestamp (ms), %h headers (k=v,k=v), \n \t; default "%s\n".
//
// --max-rate R processes at most R records per second (a token bucket,
// rate_limiter.h, bursts of max(1, R)): a slow consumer for tests and load
// experiments (the autoscaling tests of issue 16). Its offsets are committed by
// hand, only for records already processed, every second and at exit; records
// waiting for their turn keep poll() running (partitions paused) so the member
// still takes part in rebalances promptly. --quiet counts records without
// printing them. Without -n/--idle-exit-ms it runs until SIGTERM or SIGINT, which
// end the loop: the processed positions are committed and the consumer leaves its
// group at once (a scaled-down pod's partitions move without a session timeout).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <iostream>

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
  cmd->add_option("-g,--group", o->group, "consumer group (commits offsets; partitions assigned by the group; runs until SIGTERM/SIGINT unless -n or --idle-exit-ms, then leaves the group)");
  cmd->add_option("-p,--partition", o->partitions, "partitions to read without a group (repeatable; default all)");
  cmd->add_flag("--from-beginning", o->from_beginning, "start at the earliest offset (when nothing is committed)");
  cmd->add_option("--offset", o->offset, "start at this offset in every chosen partition");
  cmd->add_option("--from-time", o->from_time, "start at the first record with timestamp >= this (ms since epoch)");
  cmd->add_option("-n,--max-messages", o->max_messages, "exit after this many records");
  cmd->add_option("--idle-exit-ms", o->idle_exit_ms, "exit when no record arrives for this long");
  cmd->add_option("-f,--format", o->format, "output format: %t %p %o %k %s %T %h \\n \\t")->capture_default_str();
  cmd->add_option("--max-rate", o->max_rate, "process at most this many records per second on average (fractions allowed; bursts of max(1, N); records waiting their turn are never skipped, and with a group only processed ones are committed; 0: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("-q,--quiet", o->quiet, "do not print records, only count them (the count goes to stderr at exit)");
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
    // Records poll() returned and not printed yet, in the order returned. With
    // --max-rate they wait here for their tokens, and meanwhile poll() keeps being
    // called (with every partition paused, so it returns nothing new) instead of a
    // plain sleep: a rebalance's revoke and rejoin run inside poll() (consumer.h),
    // so a slow consumer holding a large batch (up to kMaxPollRecords, minutes at
    // 20/s) still rejoins within ~100 ms when a pod is added or removed, instead of
    // stalling the whole group until its batch is done.
    //
    // What this relies on (client/consumer.h, consumer.cc, consumer_group.cc): with
    // enable_auto_commit=false the Consumer never commits by itself, neither in
    // poll() (the periodic auto-commit and the commit before a rebalance's revoke
    // are both skipped) nor in close(); the only commits are the commit_sync(printed)
    // below, so the consumed position running past the pending records commits
    // nothing. pause() keeps buffered records and poll() just skips them; resume()
    // goes on from there. A revoked partition's pending records are dropped (its
    // next owner starts at our last commit): records are re-delivered, never lost.
    std::deque<client::ConsumerRecord> pending;
    bool paused = false;
    auto poll_into_pending = [&](std::chrono::milliseconds timeout) {
      std::cout.flush();
      auto r = consumer.poll(timeout);
      if (!r.ok()) { rc = report("consume from '" + o->topic + "'", r.error()); return false; }
      if (!r->empty()) idle_since = std::chrono::steady_clock::now();
      for (auto& rec : *r) pending.push_back(std::move(rec));
      auto owned = consumer.assignment();
      std::erase_if(pending, [&](const client::ConsumerRecord& rec) {
        return std::find(owned.begin(), owned.end(), client::TopicPartition{rec.topic, rec.partition}) == owned.end();
      });
      return true;
    };
    while ((o->max_messages < 0 || count < o->max_messages) && !g_stop.load()) {
      if (pending.empty()) {
        if (paused) { consumer.resume(consumer.assignment()); paused = false; }
        if (!poll_into_pending(std::chrono::milliseconds(200))) return;
        if (pending.empty() && o->idle_exit_ms >= 0 &&
            std::chrono::steady_clock::now() - idle_since > std::chrono::milliseconds(o->idle_exit_ms))
          break;
      } else if (auto wait = limiter ? limiter->acquire(RateLimiter::Clock::now()) : std::chrono::nanoseconds(0);
                 wait.count() > 0) {
        // No token yet: wait for it inside poll(), at most 100 ms at a time (SIGTERM
        // is seen within that). Partitions assigned by a rebalance meanwhile come
        // unpaused: pause them all again each time.
        consumer.pause(consumer.assignment());
        paused = true;
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait);
        if (!poll_into_pending(std::clamp(ms, std::chrono::milliseconds(1), std::chrono::milliseconds(100)))) return;
      } else {
        auto& rec = pending.front();
        if (!o->quiet) std::cout << format_record(o->format, rec);
        printed[client::TopicPartition{rec.topic, rec.partition}] = rec.offset + 1;
        ++count;
        pending.pop_front();
      }
      if (manual_commit && o->max_messages < 0 && std::chrono::steady_clock::now() - last_commit > std::chrono::seconds(1))
        commit_printed();
    }
    std::cout.flush();
    // Records returned but not printed (past --max-messages, or stopped while they
    // waited for their turn): the next consumer starts at the first of each
    // partition's (pending is in order, and emplace keeps a printed position).
    for (auto& rec : pending) printed.emplace(client::TopicPartition{rec.topic, rec.partition}, rec.offset);
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

// millrace bench produce|consume: throughput and latency against a real cluster.
//
// produce: sends --records records (or for --duration seconds) of --record-size
// bytes, optionally rate-limited; latency is send() to delivery callback per record.
// Prints records/s, MB/s and p50/p99/p99.9/max latency; --json prints one JSON
// object (used by `make bench`). A progress line is written to stderr every second.
//
// consume: reads --records records (all partitions together, each from its start) with an
// assigned (group-less) consumer; MB/s of record values over wall time. --verify
// also checks that each partition's offsets only go up and reports an
// order-independent checksum of the values (sum of FNV-1a 64 per value), so a
// test can compare what was read with what was written.
#include <algorithm>
#include <atomic>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "client/admin.h"
#include "client/cli/common.h"
#include "client/consumer.h"
#include "client/producer.h"

namespace millrace::cli {

namespace {
using Clock = std::chrono::steady_clock;

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t idx = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(idx), v.end());
  return v[idx];
}

struct Progress {
  Clock::time_point start = Clock::now(), last = start;
  uint64_t last_count = 0;
  bool quiet = false;
  void tick(uint64_t count, size_t record_size, bool force = false) {
    auto now = Clock::now();
    if (quiet || (!force && now - last < std::chrono::seconds(1))) return;
    double dt = std::chrono::duration<double>(now - last).count();
    double rate = dt > 0 ? static_cast<double>(count - last_count) / dt : 0;
    std::cerr << "\r" << count << " records, " << std::fixed << std::setprecision(0) << rate << " rec/s, "
              << std::setprecision(2) << rate * static_cast<double>(record_size) / 1e6 << " MB/s   " << std::flush;
    last = now;
    last_count = count;
  }
};
}  // namespace

void add_bench_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  auto* bench = app.add_subcommand("bench", "measure produce or consume throughput and latency");
  bench->require_subcommand(1);

  struct POpts {
    std::string topic, compression = "none";
    int64_t records = 1000000, rate = -1, linger_ms = 5;
    double duration = -1;
    size_t record_size = 100, batch_size = 16384;
    int acks = -1;
    bool json = false, quiet = false, no_idempotence = false;
  };
  auto o = std::make_shared<POpts>();
  auto* prod = bench->add_subcommand("produce", "producer throughput and delivery latency");
  prod->add_option("-t,--topic", o->topic, "topic (must exist)")->required();
  prod->add_option("--records", o->records, "records to send")->capture_default_str();
  prod->add_option("--duration", o->duration, "seconds to run instead of a record count");
  prod->add_option("--record-size", o->record_size, "value bytes per record")->capture_default_str();
  prod->add_option("--rate", o->rate, "records per second (-1: as fast as possible)")->capture_default_str();
  prod->add_option("--acks", o->acks, "-1, 0 or 1")->check(CLI::IsMember({-1, 0, 1}))->capture_default_str();
  prod->add_option("--batch-size", o->batch_size, "batch.size bytes")->capture_default_str();
  prod->add_option("--linger-ms", o->linger_ms, "linger.ms")->capture_default_str();
  prod->add_option("-z,--compression", o->compression, "none, gzip, snappy, lz4, zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))->capture_default_str();
  prod->add_flag("--no-idempotence", o->no_idempotence, "disable idempotence");
  prod->add_flag("--json", o->json, "print the result as one JSON object");
  prod->add_flag("-q,--quiet", o->quiet, "no progress line");
  prod->callback([&g, &rc, o] {
    client::ProducerConfig pc;
    pc.client = g.client();
    pc.acks = static_cast<int16_t>(o->acks);
    pc.enable_idempotence = !o->no_idempotence;
    pc.compression = *client::parse_compression(o->compression);
    pc.batch_size = o->batch_size;
    pc.linger_ms = o->linger_ms;
    client::Producer producer(pc);
    std::string payload(o->record_size, 'x');
    std::mt19937 rng(42);
    for (auto& c : payload) c = static_cast<char>('a' + rng() % 26);
    // What the delivery callbacks record. They capture only a pointer to it and the
    // send time (16 bytes), so std::function stores them inline: the measuring tool
    // allocates nothing per record beyond the record itself.
    struct Tally {
      std::mutex mu;
      std::vector<double> lat_ms;          // GUARDED_BY(mu)
      std::atomic<uint64_t> acked{0}, failed{0};
      client::Error first_error;           // GUARDED_BY(mu)
    } tally;
    auto& mu = tally.mu;
    auto& lat_ms = tally.lat_ms;
    auto& acked = tally.acked;
    auto& failed = tally.failed;
    auto& first_error = tally.first_error;
    lat_ms.reserve(o->records > 0 ? static_cast<size_t>(o->records) : 1 << 20);
    Progress progress;
    progress.quiet = o->quiet;
    auto start = Clock::now();
    auto deadline = o->duration > 0 ? start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o->duration))
                                    : Clock::time_point::max();
    uint64_t sent = 0;
    while ((o->duration > 0 ? Clock::now() < deadline : sent < static_cast<uint64_t>(o->records))) {
      if (o->rate > 0) {
        auto due = start + std::chrono::microseconds(static_cast<int64_t>(1e6 * static_cast<double>(sent) / static_cast<double>(o->rate)));
        if (due > Clock::now()) std::this_thread::sleep_until(due);
      }
      client::ProducerRecord r;
      r.topic = o->topic;
      r.value = payload;
      auto t0 = Clock::now();
      auto st = producer.send(std::move(r), [t = &tally, t0](const client::RecordMetadata&, const client::Error& e) {
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        std::lock_guard lock(t->mu);
        if (e.ok()) { t->lat_ms.push_back(ms); ++t->acked; }
        else { ++t->failed; if (t->first_error.ok()) t->first_error = e; }
      });
      if (!st.ok()) { rc = report("bench produce to '" + o->topic + "'", st); return; }
      ++sent;
      if ((sent & 1023) == 0) progress.tick(acked.load(), o->record_size);
    }
    producer.flush();
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    progress.tick(acked.load(), o->record_size, true);
    if (!o->quiet) std::cerr << "\n";
    producer.close();
    std::lock_guard lock(mu);
    double rps = static_cast<double>(acked.load()) / secs;
    double mbps = rps * static_cast<double>(o->record_size) / 1e6;
    double p50 = percentile(lat_ms, 50), p99 = percentile(lat_ms, 99), p999 = percentile(lat_ms, 99.9);
    double mx = lat_ms.empty() ? 0 : *std::max_element(lat_ms.begin(), lat_ms.end());
    if (o->json) {
      std::cout << std::fixed << std::setprecision(3) << "{\"tool\":\"millrace\",\"mode\":\"produce\",\"records\":" << acked.load()
                << ",\"failed\":" << failed.load() << ",\"record_size\":" << o->record_size << ",\"acks\":" << o->acks
                << ",\"seconds\":" << secs << ",\"records_per_sec\":" << rps << ",\"mb_per_sec\":" << mbps
                << ",\"latency_ms\":{\"p50\":" << p50 << ",\"p99\":" << p99 << ",\"p999\":" << p999 << ",\"max\":" << mx << "}}\n";
    } else {
      std::cout << std::fixed << std::setprecision(1) << acked.load() << " records sent, " << rps << " records/sec ("
                << std::setprecision(2) << mbps << " MB/sec), latency ms p50 " << p50 << " p99 " << p99 << " p99.9 " << p999
                << " max " << mx << "\n";
    }
    if (failed > 0) rc = report(std::to_string(failed.load()) + " records failed", first_error);
  });

  struct COpts {
    std::string topic;
    int64_t records = 1000000;
    double timeout_s = 60;
    int32_t fetch_max_bytes = client::ConsumerConfig{}.fetch_max_bytes;
    int32_t max_partition_fetch_bytes = client::ConsumerConfig{}.max_partition_fetch_bytes;
    bool json = false, quiet = false, verify = false;
  };
  auto c = std::make_shared<COpts>();
  auto* cons = bench->add_subcommand("consume", "consumer throughput from the beginning of a topic");
  cons->add_option("-t,--topic", c->topic, "topic")->required();
  cons->add_option("--records", c->records, "records to read")->capture_default_str();
  cons->add_option("--timeout", c->timeout_s, "give up after this many seconds")->capture_default_str();
  cons->add_option("--fetch-max-bytes", c->fetch_max_bytes, "fetch.max.bytes")->capture_default_str();
  cons->add_option("--max-partition-fetch-bytes", c->max_partition_fetch_bytes, "max.partition.fetch.bytes")
      ->capture_default_str();
  cons->add_flag("--verify", c->verify, "check offsets go up per partition; print a checksum of the values");
  cons->add_flag("--json", c->json, "print the result as one JSON object");
  cons->add_flag("-q,--quiet", c->quiet, "no progress line");
  cons->callback([&g, &rc, c] {
    client::Admin admin(g.client());
    auto d = admin.describe_topic(c->topic);
    if (!d.ok()) { rc = report("bench consume from '" + c->topic + "'", d.error()); return; }
    std::vector<client::TopicPartition> tps;
    for (auto& p : d->partitions) tps.push_back({c->topic, p.partition});
    client::ConsumerConfig cc;
    cc.client = g.client();
    cc.auto_offset_reset = "earliest";
    cc.fetch_max_bytes = c->fetch_max_bytes;
    cc.max_partition_fetch_bytes = c->max_partition_fetch_bytes;
    client::Consumer consumer(cc);
    consumer.assign(tps);
    auto st = consumer.seek_to_beginning(tps);
    if (!st.ok()) { rc = report("seek", st); return; }
    Progress progress;
    progress.quiet = c->quiet;
    uint64_t n = 0, bytes = 0, checksum = 0, disorder = 0;
    std::map<int32_t, int64_t> last_offset;   // --verify: per partition
    auto start = Clock::now();
    auto give_up = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c->timeout_s));
    while (n < static_cast<uint64_t>(c->records) && Clock::now() < give_up) {
      auto r = consumer.poll(std::chrono::milliseconds(200));
      if (!r.ok()) { rc = report("bench consume", r.error()); return; }
      for (auto& rec : *r) bytes += rec.value ? rec.value->size() : 0;
      if (c->verify)
        for (auto& rec : *r) {
          auto [it, fresh] = last_offset.emplace(rec.partition, rec.offset);
          if (!fresh) {
            if (rec.offset <= it->second) ++disorder;
            it->second = rec.offset;
          }
          uint64_t h = 14695981039346656037ull;   // FNV-1a 64
          if (rec.value)
            for (unsigned char ch : *rec.value) h = (h ^ ch) * 1099511628211ull;
          checksum += h;
        }
      n += r->size();
      progress.tick(n, n ? bytes / n : 0);
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    if (!c->quiet) std::cerr << "\n";
    double rps = static_cast<double>(n) / secs, mbps = static_cast<double>(bytes) / secs / 1e6;
    if (c->json) {
      std::cout << std::fixed << std::setprecision(3) << "{\"tool\":\"millrace\",\"mode\":\"consume\",\"records\":" << n
                << ",\"bytes\":" << bytes << ",\"seconds\":" << secs << ",\"records_per_sec\":" << rps
                << ",\"mb_per_sec\":" << mbps;
      if (c->verify) std::cout << ",\"value_checksum\":" << checksum << ",\"offsets_out_of_order\":" << disorder;
      std::cout << "}\n";
    } else {
      if (c->verify)
        std::cout << "value checksum " << checksum << ", offsets out of order " << disorder << "\n";
      std::cout << std::fixed << std::setprecision(1) << n << " records read, " << rps << " records/sec (" << std::setprecision(2)
                << mbps << " MB/sec)\n";
    }
    if (disorder > 0) {
      std::cerr << "error: " << disorder << " records came at or below an offset already read in their partition\n";
      rc = kExitBroker;
    }
    if (n < static_cast<uint64_t>(c->records)) {
      std::cerr << "error: only " << n << " of " << c->records << " records arrived within " << c->timeout_s << " s\n";
      rc = kExitBroker;
    }
  });
}

}  // namespace millrace::cli

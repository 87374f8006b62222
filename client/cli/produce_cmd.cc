// millrace produce: one record per stdin line, optional key separator and headers.
#include <atomic>
#include <chrono>
#include <iostream>

#include "client/cli/common.h"
#include "client/producer.h"

namespace millrace::cli {

void add_produce_command(CLI::App& app, GlobalOptions& g, int& rc) {
  struct Opts {
    std::string topic, key_sep, compression = "none";
    std::vector<std::string> headers;
    int32_t partition = -1;
    int acks = -1;
    int64_t linger_ms = 5;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("produce", "send stdin lines as records (one per line)");
  cmd->add_option("-t,--topic", o->topic, "topic")->required();
  cmd->add_option("-K,--key-separator", o->key_sep, "split each line at the first SEP into key and value");
  cmd->add_option("-H,--header", o->headers, "header key=value added to every record (repeatable)");
  cmd->add_option("-p,--partition", o->partition, "partition (default: the partitioner decides)");
  cmd->add_option("--acks", o->acks, "-1 (all), 0 or 1")->check(CLI::IsMember({-1, 0, 1}))->capture_default_str();
  cmd->add_option("-z,--compression", o->compression, "none, gzip, snappy, lz4, zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))->capture_default_str();
  cmd->add_option("--linger-ms", o->linger_ms, "batching delay")->capture_default_str();
  cmd->callback([&g, &rc, o] {
    std::map<std::string, std::string> hdrs;
    if (!parse_pairs(o->headers, hdrs, "--header")) { rc = kExitUsage; return; }
    client::ProducerConfig pc;
    pc.client = g.client();
    pc.acks = static_cast<int16_t>(o->acks);
    pc.compression = *client::parse_compression(o->compression);
    pc.linger_ms = o->linger_ms;
    pc.max_block_ms = g.timeout_ms;
    pc.delivery_timeout_ms = std::max<int64_t>(g.timeout_ms, 30000) + pc.linger_ms;
    client::Producer producer(pc);
    std::atomic<uint64_t> ok{0}, failed{0};
    std::mutex err_mu;
    client::Error first_error;
    std::string line;
    uint64_t sent = 0;
    while (std::getline(std::cin, line)) {
      client::ProducerRecord r;
      r.topic = o->topic;
      if (o->partition >= 0) r.partition = o->partition;
      if (!o->key_sep.empty()) {
        auto pos = line.find(o->key_sep);
        if (pos != std::string::npos) {
          r.key = line.substr(0, pos);
          line = line.substr(pos + o->key_sep.size());
        }
      }
      r.value = line;
      for (auto& [k, v] : hdrs) r.headers.push_back({k, v});
      auto st = producer.send(std::move(r), [&](const client::RecordMetadata&, const client::Error& e) {
        if (e.ok()) { ++ok; return; }
        ++failed;
        std::lock_guard lock(err_mu);
        if (first_error.ok()) first_error = e;
      });
      if (!st.ok()) { rc = report("produce to '" + o->topic + "'", st); return; }
      ++sent;
    }
    // Bounded waits: delivery.timeout.ms for what is queued, then --timeout-ms for
    // close; anything still undelivered fails its callback and is counted below.
    producer.flush(std::chrono::milliseconds(pc.delivery_timeout_ms));
    producer.close(std::chrono::milliseconds(g.timeout_ms));
    if (failed > 0) {
      rc = report(std::to_string(failed.load()) + " of " + std::to_string(sent) + " records not delivered", first_error);
      return;
    }
    std::cerr << "produced " << ok.load() << " records to " << o->topic << "\n";
  });
}

}  // namespace millrace::cli

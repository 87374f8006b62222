// idle_replicas: what idle replicated partitions cost a broker, in process.
// Three ReplicaSets (brokers 1-3) share N partitions of replication factor 3,
// each replica over a real storage::Log in a temporary directory; their
// batches cross through raft/rpc's codec as the transport will carry them.
// After the groups elect and go idle, it measures per broker, over M ticks:
// the bytes sent to the other brokers and the CPU time of tick + drive, with
// quiescence (ReplicaSet's node liveness) and without (a heartbeat per group
// per tick). One JSON line per mode on stdout.
//
//   idle_replicas [partitions=2000] [ticks=200] [tick_ms=50]
//
// The logs go to /dev/shm when it exists (what is measured touches no disk;
// opening thousands of logs and electing their leaders does, and fsyncs would
// only slow the setup). One process holds 3 x N logs, one file descriptor
// each: N is bounded by the machine's open-file limit (20,000 here).
//
// Real brokers add the socket and syscall cost of the batches (a few per
// second per pair when quiescent); the replication thread itself is this.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/replication/replica_set.h"
#include "raft/rpc/codec.h"

namespace fs = std::filesystem;
using namespace millrace;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Run {
  size_t bytes = 0, batches = 0, messages = 0;
};

// One tick of all three brokers: tick, then drive and deliver until quiet.
void round(std::map<int, std::unique_ptr<cluster::ReplicaSet>>& sets, Run& run) {
  for (auto& [b, s] : sets) s->tick();
  for (int hop = 0; hop < 30; ++hop) {
    std::map<int, std::vector<std::pair<int, std::vector<uint8_t>>>> inbox;
    bool any = false;
    for (auto& [b, s] : sets)
      for (auto& [to, msgs] : s->drive()) {
        auto bytes = raft::rpc::encode_batch(raft::NodeId(b), raft::NodeId(to), msgs);
        run.bytes += bytes.size();
        run.batches += 1;
        run.messages += msgs.size();
        inbox[to].emplace_back(b, std::move(bytes));
        any = true;
      }
    if (!any) return;
    for (auto& [to, batches] : inbox)
      for (auto& [from, bytes] : batches) {
        auto d = raft::rpc::decode_batch(bytes);
        if (!d.ok()) {
          std::fprintf(stderr, "idle_replicas: bad batch: %s\n", d.error.c_str());
          std::exit(1);
        }
        sets[to]->heard_from(from);
        sets[to]->deliver(d.messages);
      }
  }
}

int measure(const fs::path& root, int partitions, int ticks, int tick_ms, int quiesce_ticks) {
  std::map<int, std::unique_ptr<cluster::ReplicaSet>> sets;
  for (int b = 1; b <= 3; ++b) sets[b] = std::make_unique<cluster::ReplicaSet>(b, 10, quiesce_ticks);
  const fs::path dir = root / (quiesce_ticks > 0 ? "quiescent" : "beating");
  for (int p = 0; p < partitions; ++p) {
    std::array<uint8_t, 16> topic{};
    topic[0] = 0x42;
    const int64_t g = cluster::group_id(topic, p);
    for (int b = 1; b <= 3; ++b) {
      storage::LogOptions o;
      o.hw_policy = storage::HwPolicy::kManual;
      auto log = storage::Log::open(dir / std::to_string(b) / std::to_string(p), o);
      if (!log.ok() || !sets[b]->add(g, *log, {1, 2, 3}).ok()) {
        std::fprintf(stderr, "idle_replicas: cannot open replica %d of partition %d\n", b, p);
        return 1;
      }
    }
  }
  Run warm;
  for (int t = 0; t < 100; ++t) round(sets, warm);  // elections, then idle long enough to quiesce
  size_t quiesced = 0;
  for (auto& [b, s] : sets) quiesced += s->quiesced();
  Run run;
  const double c0 = cpu_seconds();
  for (int t = 0; t < ticks; ++t) round(sets, run);
  const double cpu = cpu_seconds() - c0;
  const double seconds = ticks * tick_ms / 1000.0;  // the ticks' wall time at tick_ms
  // Per broker: a third of all traffic and CPU (the three are symmetric).
  std::printf(
      "{\"mode\": \"%s\", \"partitions\": %d, \"replicas_per_broker\": %d, \"quiescent_replicas\": %zu, "
      "\"bytes_per_s_per_broker\": %.0f, \"batches_per_s_per_broker\": %.1f, \"raft_messages_per_s_per_broker\": %.0f, "
      "\"cpu_ms_per_s_per_broker\": %.3f}\n",
      quiesce_ticks > 0 ? "quiescent" : "beating", partitions, partitions, quiesced, run.bytes / 3.0 / seconds,
      run.batches / 3.0 / seconds, run.messages / 3.0 / seconds, cpu * 1000 / 3.0 / seconds);
  sets.clear();
  fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int partitions = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int ticks = argc > 2 ? std::atoi(argv[2]) : 200;
  const int tick_ms = argc > 3 ? std::atoi(argv[3]) : 50;
  const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  const fs::path root = base / ("millrace-idle-" + std::to_string(::getpid()));
  int rc = measure(root, partitions, ticks, tick_ms, 20);
  if (rc == 0) rc = measure(root, partitions, ticks, tick_ms, 0);
  fs::remove_all(root);
  return rc;
}

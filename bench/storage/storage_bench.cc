// storage_bench: append/read/recovery throughput of millrace_storage's Log.
//
//   storage_bench append  <dir> <mode> <threads> <seconds> <max_mb> [buffer_kib [prealloc_mib]]
//       buffer_kib: the append buffer (LogOptions::append_buffer_bytes), default
//       128 as LogManager's; 0 = write-through. prealloc_mib: fallocate step, default 8.
//       mode nofsync: appends only (page cache), one flush at the very end (not timed)
//       mode fsync:   flush() (fdatasync) after every batch, one thread
//       mode group:   every thread appends then waits for flush_up_to() of its
//                     batch (group commit through a flush thread)
//   storage_bench create  <dir> <n>  LogManager::create of n partitions (one
//                                    batch appended and flushed to each), ms each
//   storage_bench read    <dir>      reads the whole log through Log::read + pread
//   storage_bench recover <dir>      unclean open from offset 0 (marker and
//                                    checkpoint removed): CRC scan + index rebuild
// Batches: 16 records of 1 KiB (16 KiB + headers), uncompressed.
// Prints one JSON object on stdout.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol/record/batch_builder.h"
#include "storage/log.h"
#include "storage/log_manager.h"

namespace fs = std::filesystem;
using namespace millrace;
using namespace millrace::storage;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::vector<uint8_t> make_batch() {
  record::BatchBuilder b(record::BatchOptions{});
  std::string value(1024, 'x');
  for (int i = 0; i < 16; ++i) {
    std::string key = "key-" + std::to_string(i);
    b.append(1700000000000 + i, record::as_bytes(key), record::as_bytes(value));
  }
  std::vector<uint8_t> out;
  (void)b.finish(out);
  return out;
}

class OneThread : public FlushExecutor {
 public:
  OneThread() : t_([this] { loop(); }) {}
  ~OneThread() override {
    { std::lock_guard l(mu_); stop_ = true; }
    cv_.notify_all();
    t_.join();
  }
  void post(std::function<void()> job) override {
    { std::lock_guard l(mu_); jobs_.push_back(std::move(job)); }
    cv_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread t_;
};

int append_bench(const fs::path& dir, const std::string& mode, int threads, double seconds, int64_t max_mb,
                 int64_t buffer_kib, int64_t prealloc_mib) {
  OneThread flusher;
  LogOptions o;
  o.config.segment_bytes = 1LL << 30;
  o.append_buffer_bytes = buffer_kib << 10;
  o.preallocate_bytes = prealloc_mib << 20;
  o.flusher = &flusher;
  auto opened = Log::open(dir, o);
  if (!opened.ok()) { std::fprintf(stderr, "%s\n", opened.status().to_string().c_str()); return 2; }
  auto log = *opened;
  const int64_t max_bytes = max_mb << 20;
  std::atomic<int64_t> bytes{0}, batches{0}, errors{0};
  std::atomic<bool> stop{false};
  auto start = SteadyClock::now();
  auto worker = [&] {
    auto batch = make_batch();
    while (!stop.load(std::memory_order_relaxed)) {
      auto r = log->append(batch, LeaderEpoch(0));
      if (!r.ok()) { ++errors; break; }
      if (mode == "fsync") {
        if (!log->flush().ok()) { ++errors; break; }
      } else if (mode == "group") {
        std::promise<Status> p;
        log->flush_up_to(r->last_offset + 1, [&p](Status s) { p.set_value(std::move(s)); });
        if (!p.get_future().get().ok()) { ++errors; break; }
      }
      int64_t total = bytes.fetch_add(static_cast<int64_t>(batch.size())) + static_cast<int64_t>(batch.size());
      ++batches;
      if (total >= max_bytes || std::chrono::duration<double>(SteadyClock::now() - start).count() >= seconds) stop = true;
    }
  };
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) ts.emplace_back(worker);
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  (void)log->close();
  std::printf("{\"buffer_kib\":%lld,\"prealloc_mib\":%lld,\"mode\":\"%s\",\"threads\":%d,\"bytes\":%lld,\"batches\":%lld,\"seconds\":%.3f,\"mb_per_s\":%.1f,"
              "\"errors\":%lld}\n",
              (long long)buffer_kib, (long long)prealloc_mib, mode.c_str(), threads, (long long)bytes.load(), (long long)batches.load(), secs,
              static_cast<double>(bytes.load()) / (1 << 20) / secs, (long long)errors.load());
  return errors.load() ? 1 : 0;
}

int create_bench(const fs::path& dir, int n) {
  LogManagerOptions o;
  o.log_dirs = {dir};
  o.start_housekeeping = false;
  auto m = LogManager::open(o);
  if (!m.ok()) { std::fprintf(stderr, "%s\n", m.status().to_string().c_str()); return 2; }
  auto batch = make_batch();
  double create_s = 0, first_flush_s = 0;
  for (int i = 0; i < n; ++i) {
    auto t0 = SteadyClock::now();
    auto log = (*m)->create({"bench", i});
    auto t1 = SteadyClock::now();
    if (!log.ok()) { std::fprintf(stderr, "%s\n", log.status().to_string().c_str()); return 2; }
    auto copy = batch;
    if (!(*log)->append(copy, LeaderEpoch(0)).ok() || !(*log)->flush().ok()) return 2;
    auto t2 = SteadyClock::now();
    create_s += std::chrono::duration<double>(t1 - t0).count();
    first_flush_s += std::chrono::duration<double>(t2 - t1).count();
  }
  (void)(*m)->shutdown();
  std::printf("{\"partitions\":%d,\"create_ms_each\":%.3f,\"first_append_flush_ms_each\":%.3f}\n", n,
              create_s * 1000 / n, first_flush_s * 1000 / n);
  return 0;
}

int read_bench(const fs::path& dir) {
  auto opened = Log::open(dir, LogOptions{});
  if (!opened.ok()) { std::fprintf(stderr, "%s\n", opened.status().to_string().c_str()); return 2; }
  auto log = *opened;
  int64_t end = log->log_end_offset().value();
  std::vector<uint8_t> buf(1 << 20);
  int64_t bytes = 0, o = log->log_start_offset().value();
  auto start = SteadyClock::now();
  while (o < end) {
    auto r = log->read(Offset(o), 1 << 20, Offset(end));
    if (!r.ok() || r->empty()) break;
    if (static_cast<size_t>(r->length) > buf.size()) buf.resize(static_cast<size_t>(r->length));
    if (::pread(r->fd(), buf.data(), static_cast<size_t>(r->length), r->position) != r->length) break;
    bytes += r->length;
    o = r->last_offset + 1;
  }
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf("{\"bytes\":%lld,\"seconds\":%.3f,\"mb_per_s\":%.1f,\"complete\":%s}\n", (long long)bytes, secs,
              static_cast<double>(bytes) / (1 << 20) / secs, o >= end ? "true" : "false");
  return o >= end ? 0 : 1;
}

int recover_bench(const fs::path& dir) {
  fs::remove(dir / ".clean_shutdown");
  fs::remove(dir / "partition.checkpoint");
  auto start = SteadyClock::now();
  auto opened = Log::open(dir, LogOptions{});
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (!opened.ok()) { std::fprintf(stderr, "%s\n", opened.status().to_string().c_str()); return 2; }
  auto info = (*opened)->recovery_info();
  double gb = static_cast<double>(info.bytes_scanned) / (1 << 30);
  std::printf("{\"bytes_scanned\":%lld,\"seconds\":%.3f,\"seconds_per_gb\":%.2f}\n", (long long)info.bytes_scanned,
              secs, gb > 0 ? secs / gb : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "append" && argc >= 7 && argc <= 9)
    return append_bench(argv[2], argv[3], std::atoi(argv[4]), std::atof(argv[5]), std::atoll(argv[6]),
                        argc > 7 ? std::atoll(argv[7]) : 128, argc > 8 ? std::atoll(argv[8]) : 8);
  if (cmd == "read" && argc == 3) return read_bench(argv[2]);
  if (cmd == "create" && argc == 4) return create_bench(argv[2], std::atoi(argv[3]));
  if (cmd == "recover" && argc == 3) return recover_bench(argv[2]);
  std::fprintf(stderr, "usage: storage_bench append <dir> nofsync|fsync|group <threads> <seconds> <max_mb> [buffer_kib [prealloc_mib]]\n"
                       "       storage_bench read|recover <dir>\n"
                       "       storage_bench create <dir> <partitions>\n");
  return 2;
}

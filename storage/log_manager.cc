#include "storage/log_manager.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <set>
#include <thread>

namespace millrace::storage {

namespace fs = std::filesystem;

std::optional<TopicPartition> TopicPartition::from_dir_name(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  int32_t p = 0;
  for (size_t i = dash + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || p > 100000000) return std::nullopt;
    p = p * 10 + (name[i] - '0');
  }
  return TopicPartition{name.substr(0, dash), p};
}

namespace {

// A fixed pool of threads draining a job queue (group-commit fsyncs).
class ThreadPool : public FlushExecutor {
 public:
  explicit ThreadPool(int n) {
    for (int i = 0; i < std::max(1, n); ++i) threads_.emplace_back([this] { loop(); });
  }
  ~ThreadPool() override {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void post(std::function<void()> job) override {
    {
      std::lock_guard l(mu_);
      jobs_.push_back(std::move(job));
    }
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
  std::vector<std::thread> threads_;
};

}  // namespace

struct LogManager::Impl {
  mutable std::mutex mu;
  std::map<TopicPartition, std::shared_ptr<Log>> logs;             // GUARDED_BY(mu)
  std::map<TopicPartition, fs::path> log_dir_of;                   // GUARDED_BY(mu)
  std::set<TopicPartition> creating;                               // GUARDED_BY(mu): create() under way
  std::map<std::string, std::map<std::string, std::string>> topic_overrides;  // GUARDED_BY(mu)
  std::vector<LoadError> load_errors;                              // GUARDED_BY(mu)
  std::unique_ptr<ThreadPool> flusher;
  std::shared_ptr<AppendBufferPool> buffers;
  std::thread tail_writer;
  std::thread housekeeper;
  std::mutex hk_mu;
  std::condition_variable hk_cv;
  bool stopping = false;  // GUARDED_BY(hk_mu)
  bool shut_down = false; // GUARDED_BY(mu)
  std::atomic<int64_t> last_checkpoint_ms{0};
  std::map<fs::path, std::shared_ptr<LogDirHealth>> health;  // one per log dir; fixed after open()
};

LogManager::LogManager(LogManagerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

LogManager::~LogManager() { (void)shutdown(); }

Result<std::unique_ptr<LogManager>> LogManager::open(LogManagerOptions options) {
  if (options.log_dirs.empty()) return Status(Errc::kInvalidArgument, "no log dirs");
  std::unique_ptr<LogManager> m(new LogManager(std::move(options)));
  Impl& im = *m->impl_;
  im.flusher = std::make_unique<ThreadPool>(m->options_.flush_threads);
  if (m->options_.append_buffer_bytes > 0) {
    im.buffers = std::make_shared<AppendBufferPool>(m->options_.append_buffers_total_bytes);
    im.tail_writer = std::thread([pool = im.buffers, linger = m->options_.append_linger_ms] {
      for (;;) {
        auto logs = pool->take_pending(linger);
        if (logs.empty()) return;  // stopped
        for (const auto& w : logs)
          if (auto log = w.lock()) (void)log->write_out_buffer();  // an error shows at the next flush/read
      }
    });
  }
  for (const auto& [topic, overrides] : m->options_.topic_configs) {
    auto cfg = m->options_.default_config.with_overrides(overrides);
    if (!cfg.ok()) return Status(cfg.code(), "topic " + topic + ": " + cfg.status().message());
    im.topic_overrides[topic] = overrides;
  }

  struct Job {
    TopicPartition tp;
    fs::path log_dir;
  };
  std::vector<Job> jobs;
  Env& env = *env_or_posix(m->options_.env);
  for (const auto& d : m->options_.log_dirs)
    im.health[d] = std::make_shared<LogDirHealth>(d, m->options_.on_log_dir_offline);
  for (const auto& d : m->options_.log_dirs) {
    std::error_code ec;
    if (Status st = env.create_directories(d); !st.ok()) return st;
    // A log dir made just now must survive a power loss with what goes in it.
    if (Status st = env.fsync_dir(d.parent_path().empty() ? fs::path(".") : d.parent_path()); !st.ok()) return st;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (!e.is_directory()) continue;
      auto tp = TopicPartition::from_dir_name(e.path().filename().string());
      // The metadata log is the controller quorum's (cluster/controller/metadata_log.h), not a topic.
      if (tp && tp->topic != "__cluster_metadata") jobs.push_back({*tp, d});
    }
    if (ec) return Status(Errc::kStorageError, "list " + d.string() + ": " + ec.message());
  }
  // Load in parallel: a small pool pulls from a shared index.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      const Job& j = jobs[i];
      LogOptions lo = m->log_options(m->topic_config(j.tp.topic), j.log_dir, j.tp);
      const fs::path dir = j.log_dir / j.tp.dir_name();
      auto log = Log::open(dir, lo);
      std::lock_guard l(im.mu);
      // A partition that cannot be loaded stays offline under its name.
      if (!log.ok()) {
        im.load_errors.push_back({dir, log.status()});
        im.logs[j.tp] = Log::offline(dir, lo, log.status());
        if (!im.log_dir_of.count(j.tp)) im.log_dir_of[j.tp] = j.log_dir;
        continue;
      }
      if (im.logs.count(j.tp)) {
        // Which copy is right is not ours to guess: neither is served.
        Status twice(Errc::kCorruptSegment, "partition present in two log dirs: " + im.log_dir_of[j.tp].string() +
                                                " and " + j.log_dir.string());
        im.load_errors.push_back({dir, twice});
        (void)(*log)->close();
        im.logs[j.tp] = Log::offline(dir, lo, twice);
        continue;
      }
      im.logs[j.tp] = std::move(*log);
      im.log_dir_of[j.tp] = j.log_dir;
    }
  };
  std::vector<std::thread> loaders;
  int n = std::max(1, std::min<int>(m->options_.load_threads, static_cast<int>(jobs.size())));
  for (int i = 0; i < n; ++i) loaders.emplace_back(worker);
  for (auto& t : loaders) t.join();

  if (m->options_.start_housekeeping) {
    LogManager* self = m.get();
    im.housekeeper = std::thread([self] {
      Impl& x = *self->impl_;
      for (;;) {
        {
          std::unique_lock l(x.hk_mu);
          x.hk_cv.wait_for(l, std::chrono::milliseconds(self->options_.housekeeping_interval_ms),
                           [&] { return x.stopping; });
          if (x.stopping) return;
        }
        self->run_housekeeping();
      }
    });
  }
  return m;
}

LogOptions LogManager::log_options(const LogConfig& config, const fs::path& log_dir, const TopicPartition& tp) const {
  LogOptions lo;
  lo.env = options_.env;
  auto h = impl_->health.find(log_dir);
  if (h != impl_->health.end()) lo.dir_health = h->second;
  if (options_.on_hw_moved) lo.on_hw_moved = [cb = options_.on_hw_moved, tp] { cb(tp); };
  lo.config = config;
  lo.clock = options_.clock;
  lo.flusher = impl_->flusher.get();
  lo.hw_policy = options_.hw_policy;
  lo.append_buffer_bytes = options_.append_buffer_bytes;
  lo.preallocate_bytes = options_.preallocate_bytes;
  lo.buffers = impl_->buffers;
  lo.cleaner_dedupe_buffer_bytes = options_.cleaner_dedupe_buffer_bytes;
  lo.producer_id_expiration_ms = options_.producer_id_expiration_ms;
  return lo;
}

std::shared_ptr<Log> LogManager::get(const TopicPartition& tp) const {
  std::lock_guard l(impl_->mu);
  auto it = impl_->logs.find(tp);
  return it == impl_->logs.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Log>> LogManager::create(const TopicPartition& tp,
                                                const std::map<std::string, std::string>& overrides) {
  if (tp.topic.empty() || tp.partition < 0 || tp.topic.find('/') != std::string::npos || tp.topic == "." ||
      tp.topic == "..")
    return Status(Errc::kInvalidArgument, "bad topic partition " + tp.dir_name());
  auto cfg = options_.default_config.with_overrides(overrides);
  if (!cfg.ok()) return cfg.status();
  fs::path best;
  {
    std::lock_guard l(impl_->mu);
    if (impl_->shut_down) return Status(Errc::kClosed, "log manager shut down");
    if (impl_->logs.count(tp) || impl_->creating.count(tp)) return Status(Errc::kAlreadyExists, tp.dir_name());
    std::map<fs::path, int> load;
    for (const auto& d : options_.log_dirs)
      if (!impl_->health.at(d)->offline()) load[d] = 0;
    if (load.empty()) return Status(Errc::kStorageError, "every log dir is offline");
    for (const auto& [t, d] : impl_->log_dir_of)
      if (load.count(d)) ++load[d];
    best = load.begin()->first;
    for (const auto& [d, n] : load)
      if (n < load[best]) best = d;
    // Reserved: the files are made outside the lock that every get() takes.
    impl_->creating.insert(tp);
    impl_->log_dir_of[tp] = best;
  }
  LogOptions lo = log_options(*cfg, best, tp);
  auto log = Log::open(best / tp.dir_name(), lo);
  Status st = log.ok() ? (*log)->flush() : log.status();  // flush: the new directory entries
  std::lock_guard l(impl_->mu);
  impl_->creating.erase(tp);
  if (st.ok() && impl_->shut_down) st = Status(Errc::kClosed, "log manager shut down");
  if (!st.ok()) {
    impl_->log_dir_of.erase(tp);
    return st;
  }
  impl_->logs[tp] = *log;
  impl_->topic_overrides[tp.topic] = overrides;
  return *log;
}

Status LogManager::remove(const TopicPartition& tp) {
  std::shared_ptr<Log> log;
  {
    std::lock_guard l(impl_->mu);
    auto it = impl_->logs.find(tp);
    if (it == impl_->logs.end()) return Status(Errc::kNotFound, tp.dir_name());
    log = it->second;
    impl_->logs.erase(it);
    impl_->log_dir_of.erase(tp);
  }
  return log->remove();
}

Status LogManager::add_offline(const TopicPartition& tp, const Status& why) {
  std::lock_guard l(impl_->mu);
  if (impl_->logs.count(tp)) return Status(Errc::kAlreadyExists, tp.dir_name());
  const fs::path& d = options_.log_dirs.front();
  impl_->logs[tp] = Log::offline(d / tp.dir_name(), log_options(options_.default_config, d, tp), why);
  impl_->log_dir_of[tp] = d;
  impl_->load_errors.push_back({d / tp.dir_name(), why});
  return Status::Ok();
}

Status LogManager::set_topic_config(const std::string& topic, const std::map<std::string, std::string>& overrides) {
  auto cfg = options_.default_config.with_overrides(overrides);
  if (!cfg.ok()) return cfg.status();
  std::lock_guard l(impl_->mu);
  impl_->topic_overrides[topic] = overrides;
  for (auto& [tp, log] : impl_->logs)
    if (tp.topic == topic) log->update_config(*cfg);
  return Status::Ok();
}

LogConfig LogManager::topic_config(const std::string& topic) const {
  std::lock_guard l(impl_->mu);
  auto it = impl_->topic_overrides.find(topic);
  if (it == impl_->topic_overrides.end()) return options_.default_config;
  auto cfg = options_.default_config.with_overrides(it->second);
  return cfg.ok() ? *cfg : options_.default_config;
}

std::vector<PartitionInfo> LogManager::partitions() const {
  std::vector<std::pair<TopicPartition, std::shared_ptr<Log>>> logs;
  std::map<TopicPartition, fs::path> dirs;
  {
    std::lock_guard l(impl_->mu);
    logs.assign(impl_->logs.begin(), impl_->logs.end());
    dirs = impl_->log_dir_of;
  }
  std::vector<PartitionInfo> out;
  for (const auto& [tp, log] : logs) {
    const Offset hw = log->high_watermark();
    out.push_back({tp, dirs[tp], log->size_bytes(), log->segment_count(), log->log_start_offset(),
                   log->log_end_offset(), hw, log->consumer_end(hw), log->is_offline()});
  }
  return out;
}

int64_t LogManager::append_buffer_bytes_in_use() const {
  return impl_->buffers ? impl_->buffers->in_use() : 0;
}

std::vector<LoadError> LogManager::load_errors() const {
  std::lock_guard l(impl_->mu);
  return impl_->load_errors;
}

std::vector<LogDirStatus> LogManager::log_dir_status() const {
  std::vector<LogDirStatus> out;
  for (const auto& d : options_.log_dirs) {
    const auto& h = impl_->health.at(d);
    out.push_back({d, h->offline(), h->error()});
  }
  return out;
}

void LogManager::run_housekeeping() {
  std::vector<std::shared_ptr<Log>> logs;
  {
    std::lock_guard l(impl_->mu);
    if (impl_->shut_down) return;
    for (const auto& [tp, log] : impl_->logs)
      if (!log->is_offline()) logs.push_back(log);
  }
  int64_t now = options_.clock();
  bool checkpoint = now - impl_->last_checkpoint_ms >= options_.checkpoint_interval_ms;
  for (const auto& log : logs) {
    (void)log->maybe_flush();
    (void)log->enforce_retention();
    (void)log->compact();
    if (checkpoint) (void)log->write_checkpoints();
    (void)log->release_idle_buffer(options_.housekeeping_interval_ms);
  }
  if (checkpoint) impl_->last_checkpoint_ms = now;
}

Status LogManager::shutdown() {
  {
    std::lock_guard l(impl_->hk_mu);
    impl_->stopping = true;
  }
  impl_->hk_cv.notify_all();
  if (impl_->housekeeper.joinable()) impl_->housekeeper.join();
  if (impl_->buffers) impl_->buffers->stop();
  if (impl_->tail_writer.joinable()) impl_->tail_writer.join();
  std::map<TopicPartition, std::shared_ptr<Log>> logs;
  {
    std::lock_guard l(impl_->mu);
    if (impl_->shut_down) return Status::Ok();
    impl_->shut_down = true;
    logs = impl_->logs;
  }
  // Close in parallel: each close may fsync, and there can be thousands.
  std::vector<std::shared_ptr<Log>> list;
  for (auto& [tp, log] : logs) list.push_back(log);
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  Status first;
  auto worker = [&] {
    for (size_t i = next++; i < list.size(); i = next++) {
      Status st = list[i]->close();
      std::lock_guard l(err_mu);
      if (!st.ok() && st.code() != Errc::kClosed && first.ok()) first = st;
    }
  };
  std::vector<std::thread> closers;
  int n = std::max(1, std::min<int>(options_.load_threads, static_cast<int>(list.size())));
  for (int i = 0; i < n; ++i) closers.emplace_back(worker);
  for (auto& t : closers) t.join();
  impl_->flusher.reset();
  return first;
}

void LogManager::post_blocking(std::function<void()> job) {
  if (impl_->flusher) {
    impl_->flusher->post(std::move(job));
  } else {
    job();  // after shutdown(): no io thread is left to protect
  }
}

}  // namespace millrace::storage

// Consumer, the application's side: subscribe/assign, poll() (which also does the
// group's commit and revoke work, consumer_group.cc), commits, seeks, close. The
// group coroutine is in consumer_group.cc, the fetcher in consumer_fetcher.cc.
#include "client/consumer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "client/consumer_detail.h"
#include "client/list_offsets.h"

namespace millrace::client {

using consumer_detail::mono_ms;

Consumer::Consumer(ConsumerConfig cfg) : cfg_(std::move(cfg)), cluster_(std::make_unique<Cluster>(cfg_.client)) {
  next_auto_commit_ms_ = mono_ms() + cfg_.auto_commit_interval_ms;
  fetch_wake_ = std::make_unique<asio::steady_timer>(cluster_->io());
  loops_ = 2;
  asio::co_spawn(cluster_->io(), group_loop(), [this](std::exception_ptr) { --loops_; });
  asio::co_spawn(cluster_->io(), fetch_loop(), [this](std::exception_ptr) { --loops_; });
}

Consumer::~Consumer() { close(); }

Status Consumer::subscribe(std::vector<std::string> topics) {
  if (closing_) return Error::closed("consumer is closed");
  if (cfg_.group_id.empty()) return Error::invalid("subscribe() needs a group id (--group); use assign() without one");
  std::lock_guard lock(mu_);
  topics_ = std::move(topics);
  subscribed_ = true;
  asio::post(cluster_->io(), [this] { rejoin_ = true; });
  return Error::none();
}

Status Consumer::assign(std::vector<TopicPartition> partitions) {
  if (closing_) return Error::closed("consumer is closed");
  {
    std::lock_guard lock(mu_);
    subscribed_ = false;
    topics_.clear();
  }
  set_assignment(partitions);
  asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
  return Error::none();
}

void Consumer::set_assignment(const std::vector<TopicPartition>& tps) {
  std::lock_guard lock(mu_);
  std::map<TopicPartition, PartState> next;
  for (auto& tp : tps) {
    auto it = parts_.find(tp);
    if (it != parts_.end()) next[tp] = std::move(it->second);
    else next[tp].epoch = next_epoch_++;
  }
  parts_ = std::move(next);
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::lock_guard lock(mu_);
  std::vector<TopicPartition> out;
  for (auto& [tp, s] : parts_) out.push_back(tp);
  return out;
}

Result<std::vector<ConsumerRecord>> Consumer::poll(std::chrono::milliseconds timeout) {
  if (closing_) return Error::closed("consumer is closed");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  struct Taken {
    TopicPartition tp;
    uint64_t epoch;
    FetchedRecords records;
  };
  std::vector<Taken> taken;
  std::vector<ConsumerRecord> out;
  for (;;) {
    run_group_duties();
    {
      std::unique_lock lock(mu_);
      auto has_data = [&] {
        if (fatal_ || closing_ || revoke_pending_) return true;
        for (auto& [tp, s] : parts_)
          if (!s.paused && !s.fetched.empty()) return true;
        return false;
      };
      cv_.wait_until(lock, deadline, has_data);
      if (closing_) return Error::closed("consumer was closed during poll()");
      // A rebalance wants partitions back: that comes first (records of revoked
      // partitions are not handed out).
      if (revoke_pending_) continue;
      if (fatal_) {
        Error e = *fatal_;
        fatal_.reset();
        return e;
      }
      // Take the queued responses; they are decoded below without the lock, so the
      // io thread can queue the next ones meanwhile.
      for (auto& [tp, s] : parts_) {
        if (s.paused) continue;
        for (auto& f : s.fetched) taken.push_back({tp, s.epoch, std::move(f)});
        s.in_poll += s.fetched.size();
        s.fetched.clear();
      }
    }
    if (taken.empty()) return out;   // timed out
    Status bad;
    size_t bad_at = taken.size();
    out.reserve(std::min<size_t>(kMaxPollRecords, 1024));
    for (size_t i = 0; i < taken.size() && out.size() < kMaxPollRecords; ++i) {
      auto st = taken[i].records.drain(taken[i].tp.topic, taken[i].tp.partition, out, kMaxPollRecords, poll_scratch_);
      if (!st.ok()) {
        bad = st;
        bad_at = i;
        break;
      }
    }
    {
      std::lock_guard lock(mu_);
      bool bad_applies = false;   // the bad batch's partition was not seeked meanwhile
      // Hand back what was not drained, in order, to the front of each queue.
      for (size_t i = taken.size(); i-- > 0;) {
        auto& t = taken[i];
        auto it = parts_.find(t.tp);
        if (it != parts_.end() && it->second.in_poll > 0) --it->second.in_poll;
        if (it == parts_.end() || it->second.epoch != t.epoch) {
          // Reassigned or seeked while we decoded: its records are stale.
          std::erase_if(out, [&](const ConsumerRecord& r) { return r.partition == t.tp.partition && r.topic == t.tp.topic; });
          continue;
        }
        auto& s = it->second;
        if (i == bad_at) {
          // Fetch again from the bad batch: poll() keeps reporting it until a seek.
          // (The new epoch is set below, after the earlier responses of the same
          // partition, whose records before the bad batch are good, are handed back.)
          s.fetch_pos = t.records.position();
          s.consumed_pos = t.records.position();
          s.fetched.clear();
          bad_applies = true;
          continue;
        }
        if (t.records.position() > s.consumed_pos) s.consumed_pos = t.records.position();
        if (!t.records.done()) s.fetched.push_front(std::move(t.records));
      }
      if (bad_applies) {
        fatal_ = bad;
        parts_.find(taken[bad_at].tp)->second.epoch = next_epoch_++;
      }
      taken.clear();
    }
    asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
    if (!bad.ok() && out.empty()) {
      std::lock_guard lock(mu_);
      if (fatal_ && fatal_->code == bad.code && fatal_->message == bad.message) {
        fatal_.reset();
        return bad;
      }
    }
    // Only control batches or records below the position: wait for more.
    if (!out.empty() || std::chrono::steady_clock::now() >= deadline) return out;
  }
}

std::map<TopicPartition, int64_t> Consumer::consumed_positions() const {
  std::lock_guard lock(mu_);
  std::map<TopicPartition, int64_t> out;
  for (auto& [tp, s] : parts_)
    if (s.consumed_pos >= 0) out[tp] = s.consumed_pos;
  return out;
}

Status Consumer::commit_sync() { return commit_sync(consumed_positions()); }

Status Consumer::commit_sync(const std::map<TopicPartition, int64_t>& offsets) {
  if (closing_) return Error::closed("consumer is closed");
  if (cfg_.group_id.empty()) return Error::invalid("commit needs a group id");
  if (offsets.empty()) return Error::none();
  return cluster_->run(commit(offsets));
}

Status Consumer::seek(const TopicPartition& tp, int64_t offset) {
  if (closing_) return Error::closed("consumer is closed");
  {
    std::lock_guard lock(mu_);
    auto it = parts_.find(tp);
    if (it == parts_.end()) return Error::invalid(tp.topic + "-" + std::to_string(tp.partition) + " is not assigned");
    it->second.fetch_pos = offset;
    it->second.consumed_pos = offset;
    it->second.fetched.clear();
    it->second.epoch = next_epoch_++;
  }
  // Fetch from the new position now, not at the fetcher's next periodic look (up
  // to a second: the first records of `bench consume` waited ~0.4 s for it).
  asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
  return Error::none();
}

Status Consumer::seek_to_beginning(const std::vector<TopicPartition>& tps) {
  if (closing_) return Error::closed("consumer is closed");
  auto r = cluster_->run(list_offsets(*cluster_, tps, -2));
  if (!r.ok()) return r.error();
  for (auto& [tp, off] : *r) seek(tp, off);
  return Error::none();
}

Status Consumer::seek_to_end(const std::vector<TopicPartition>& tps) {
  if (closing_) return Error::closed("consumer is closed");
  auto r = cluster_->run(list_offsets(*cluster_, tps, -1));
  if (!r.ok()) return r.error();
  for (auto& [tp, off] : *r) seek(tp, off);
  return Error::none();
}

Status Consumer::seek_to_time(const std::vector<TopicPartition>& tps, int64_t ts) {
  if (closing_) return Error::closed("consumer is closed");
  auto r = cluster_->run(list_offsets(*cluster_, tps, ts));
  if (!r.ok()) return r.error();
  std::vector<TopicPartition> past_end;
  for (auto& [tp, off] : *r) {
    if (off >= 0) seek(tp, off);
    else past_end.push_back(tp);   // no record at or after ts: go to the end
  }
  if (!past_end.empty()) return seek_to_end(past_end);
  return Error::none();
}

std::optional<int64_t> Consumer::position(const TopicPartition& tp) const {
  std::lock_guard lock(mu_);
  auto it = parts_.find(tp);
  if (it == parts_.end() || it->second.consumed_pos < 0) return std::nullopt;
  return it->second.consumed_pos;
}

void Consumer::pause(const std::vector<TopicPartition>& tps) {
  std::lock_guard lock(mu_);
  for (auto& tp : tps) {
    auto it = parts_.find(tp);
    if (it == parts_.end()) continue;
    it->second.paused = true;
  }
}

void Consumer::resume(const std::vector<TopicPartition>& tps) {
  {
    std::lock_guard lock(mu_);
    for (auto& tp : tps) {
      auto it = parts_.find(tp);
      if (it != parts_.end()) it->second.paused = false;
    }
  }
  asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
}

Status Consumer::close(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + timeout;
  if (closing_.exchange(true)) return Error::closed("consumer is already closed");
  if (cluster_->on_io_thread()) return Error::invalid("close() called on the consumer's io thread");
  {
    std::lock_guard lock(mu_);   // wakes a poll() blocked in another thread
  }
  cv_.notify_all();
  Status result;
  if (!cfg_.group_id.empty() && cfg_.enable_auto_commit) {
    auto offsets = consumed_positions();
    if (!offsets.empty()) result = cluster_->run_within(commit(std::move(offsets)), deadline);
  }
  if (!cfg_.group_id.empty()) {
    Status left = cluster_->run_within([this, deadline]() -> asio::awaitable<Status> {
      Status st;
      if (!member_id_.empty() && coordinator_ >= 0) {
        auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        proto::LeaveGroupRequest req;
        req.group_id = cfg_.group_id;
        req.member_id = member_id_;
        req.members.push_back({member_id_, std::nullopt, std::nullopt, {}});
        auto r = co_await cluster_->call(coordinator_, req, std::clamp(budget, std::chrono::milliseconds(1),
                                                                        std::chrono::milliseconds(5000)));
        if (!r.ok()) st = r.error();
      }
      fetch_wake_->cancel();
      co_return st;
    }(), deadline);
    if (result.ok() && left.code != errc::kClientClosed) result = left;
  }
  // The group and fetch loops see closing_ and finish (a heartbeat sleep may hold
  // the group loop a few seconds: give them at most 2 s); then, or past the
  // deadline, the io thread is stopped regardless. Nothing is lost by that: the
  // commit and the leave are done.
  auto loops_deadline = std::min(deadline, Clock::now() + std::chrono::seconds(2));
  while (loops_ > 0 && Clock::now() < loops_deadline && !cluster_->closed()) {
    asio::post(cluster_->io(), [this] { fetch_wake_->cancel(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  cluster_->shutdown();
  return result;
}


}  // namespace millrace::client

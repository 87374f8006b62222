#include "cluster/partition/partition.h"

#include "cluster/partition/replicator.h"

#include <utility>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <utility>

namespace millrace::cluster {

namespace asio = boost::asio;

LeadershipFacts sole_leader(int32_t self) { return {self, LeaderEpoch(0), {self}, {self}}; }

std::shared_ptr<AckWait> AckWait::done(storage::Status st, asio::any_io_executor ex) {
  auto a = std::shared_ptr<AckWait>(new AckWait(std::move(ex)));
  a->status_ = std::move(st);
  return a;
}

std::shared_ptr<AckWait> AckWait::pending(asio::any_io_executor ex) {
  return std::shared_ptr<AckWait>(new AckWait(std::move(ex)));
}

void AckWait::complete(const std::shared_ptr<AckWait>& a, storage::Status st) {
  asio::post(a->ex_, [a, st = std::move(st)]() mutable {
    if (a->status_) return;
    a->status_ = std::move(st);
    a->timer_.cancel();
  });
}

std::shared_ptr<AckWait> AckWait::sync(storage::Log& log, Offset up_to, asio::any_io_executor ex) {
  auto a = std::shared_ptr<AckWait>(new AckWait(ex));
  log.flush_up_to(up_to, [a, ex](storage::Status st) {
    asio::post(ex, [a, st = std::move(st)]() mutable {
      a->status_ = std::move(st);
      a->timer_.cancel();
    });
  });
  return a;
}

asio::awaitable<storage::Status> AckWait::wait() {
  if (!status_) {
    timer_.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;  // cancel() is the completion
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return status_ ? *status_ : storage::Status(storage::Errc::kClosed, "flush did not complete");
}

Partition::Partition(storage::TopicPartition tp, std::shared_ptr<storage::Log> log, LeadershipFacts facts,
                     PartitionOptions options)
    : tp_(std::move(tp)), log_(std::move(log)), options_(options), facts_(std::move(facts)) {}

LeadershipFacts Partition::leadership() const {
  std::shared_ptr<Replicator> r;
  {
    std::lock_guard lock(mu_);
    if (!replicator_) {
      // A partition of several replicas is led only through its Raft group:
      // until its replica is open here (or when it failed) this broker leads
      // nothing, whatever the image last said.
      if (facts_.replicas.size() <= 1) return facts_;
      LeadershipFacts f = facts_;
      f.leader = -1;
      return f;
    }
    r = replicator_;
  }
  return r->facts();
}

LeadershipFacts Partition::image_facts() const {
  std::lock_guard lock(mu_);
  return facts_;
}

void Partition::set_replicator(std::shared_ptr<Replicator> r) {
  {
    std::lock_guard lock(mu_);
    replicator_ = std::move(r);
  }
  waiters_.notify();
}

std::shared_ptr<Replicator> Partition::replicator() const {
  std::lock_guard lock(mu_);
  return replicator_;
}

void Partition::set_leadership(LeadershipFacts facts) {
  {
    std::lock_guard lock(mu_);
    facts_ = std::move(facts);
  }
  waiters_.notify();  // a parked fetch re-checks leadership
}

bool Partition::is_leader(int32_t self) const { return leadership().leader == self; }

namespace {

// Kafka's Partition.checkLeaderEpoch against the epoch this replica knows.
proto::ErrorCode check_epoch(const LeadershipFacts& f, int32_t current_leader_epoch) {
  if (current_leader_epoch == -1) return proto::ErrorCode::kNone;
  if (current_leader_epoch < f.leader_epoch.value()) return proto::ErrorCode::kFencedLeaderEpoch;
  if (current_leader_epoch > f.leader_epoch.value()) return proto::ErrorCode::kUnknownLeaderEpoch;
  return proto::ErrorCode::kNone;
}

}  // namespace

proto::ErrorCode Partition::check_leader(int32_t self, int32_t current_leader_epoch) const {
  const LeadershipFacts f = leadership();
  if (f.leader != self) return proto::ErrorCode::kNotLeaderOrFollower;
  return check_epoch(f, current_leader_epoch);
}

proto::ErrorCode Partition::check_replica(int32_t self, int32_t current_leader_epoch) const {
  const LeadershipFacts f = leadership();
  if (f.leader == self) return check_epoch(f, current_leader_epoch);
  // A follower serves only through its Raft group: its high watermark is the
  // commit it learned from the leader. Without one (not open here, or a
  // partition of one replica led elsewhere) this broker is no follower.
  const bool follower =
      replicator() && std::find(f.replicas.begin(), f.replicas.end(), self) != f.replicas.end();
  if (!follower) return proto::ErrorCode::kNotLeaderOrFollower;
  return check_epoch(f, current_leader_epoch);
}

Offset Partition::consumer_high_watermark(Offset hw) const {
  return log_->consumer_end(hw);
}

Partition::ConsumerRead Partition::read_for_consumer(Offset fetch_offset, int32_t max_bytes) const {
  const Offset hw = high_watermark();
  max_bytes = std::max(max_bytes, 1);
  // A region never mixes Raft's entries with data, and a run of them at the
  // fetch offset is skipped to what follows it (runs are split only by
  // segments). Clients take the gap as they take compaction's; a client whose
  // fetch offset is one waits there for the next record, told that the data
  // ends there (consumer_high_watermark).
  auto region = log_->read(fetch_offset, max_bytes, hw, storage::ReadFilter::kNoRaftControl);
  for (int skipped = 0; region.ok() && region->raft_control && skipped < kMaxRaftControlSkipped; ++skipped)
    region = log_->read(Offset(region->last_offset + 1), max_bytes, hw, storage::ReadFilter::kNoRaftControl);
  if (region.ok() && region->raft_control) region = storage::FileRegion{};
  return {consumer_high_watermark(hw), std::move(region)};
}

Replicated Partition::replicate(std::span<uint8_t> records, int16_t acks, asio::any_io_executor ex) {
  if (auto r = replicator()) return r->replicate(records, acks, std::move(ex));
  if (image_facts().replicas.size() > 1)  // several replicas and no Raft group here
    return {storage::Status(storage::Errc::kClosed, "the partition's replica is not open here"), nullptr};
  Replicated r{log_->append(records, leadership().leader_epoch), nullptr};
  if (!r.appended.ok()) return r;
  // Parked fetches wake only when readers can see the batch: at once when the
  // high watermark follows appends (kOnAppend); under kOnFlush the flush that
  // moves it wakes them (PartitionManager::notify_hw_moved), and a wake here
  // would only make every parked fetch re-read and park again.
  if (!r.appended->duplicate && log_->high_watermark() > r.appended->base_offset) waiters_.notify();
  Offset up_to = r.appended->last_offset + 1;
  if (acks == -1 && options_.sync_on_acks_all) {
    r.acks = AckWait::sync(*log_, up_to, std::move(ex));
    return r;
  }
  // Whatever is acknowledged is in the page cache first (survives kill -9).
  storage::Status st;
  if (acks != 0 && log_->written_end_offset() < up_to) st = log_->write_out_buffer();
  r.acks = AckWait::done(std::move(st), std::move(ex));
  return r;
}

}  // namespace millrace::cluster

// The broker's replication service: every partition replica this broker holds
// (a partition with more than one replica that names this broker), as one
// cluster::ReplicaSet, driven on the service's own thread and clock, its Raft
// messages sent to the other brokers as one RaftBatch (api 10000) per broker
// pair per round on their inter-broker listener.
//
//   reconcile(image)   after every metadata image: opens a replica for each
//                      replicated partition placed here (its log switched to a
//                      manual high watermark, moved by the commit index) and
//                      puts it behind the Partition (Partition::set_replicator);
//                      drops those no longer placed here
//   deliver(from, m)   a RaftBatch from broker `from` (ReplicationDispatcher)
//   tick (tick_ms)     ReplicaSet::tick, then drive
//   drive              persist, send, answer produces, wake parked fetches when
//                      a high watermark moved, report leadership changes
//
// Preferred leaders (preferred_leaders.cc, cluster/replication/preferred_leader.h):
// every rebalance_interval_ms (auto_leader_rebalance), each group led here
// whose preferred replica (replicas[0] of the latest image) is in sync and may
// lead is handed to it, one attempt per group per interval; elect_preferred
// does the same on request (ElectLeaders) and answers once it leads.
//
// Produce (Replicator::replicate, on the io thread that read the request):
// the leader checks the batches as Log::append would (framing, CRC, size,
// idempotence against the log's producer state and the batches proposed but
// not yet appended), proposes them to the partition's Raft group and returns
// their offsets (stage 1); stage 2 completes when they are committed (acks=all:
// a majority holds them, synced by default) or in the leader's log (acks=1),
// and with NOT_LEADER_OR_FOLLOWER when leadership moved first (the outcome
// is unknown: the client retries, idempotence keeps the retry from landing twice).
//
// Leadership: each replica's facts (leader, leader epoch = Raft term, replicas,
// in-sync replicas: the leader and every replica holding every committed
// entry) are what this broker's Partition checks; a leader hands changes to the
// leadership sink (the controller writes them to the metadata log, so every
// broker's Metadata shows them), retried until it answers 0.
//
// Serving: the leader observer hears, on the service thread, when this
// broker starts leading a partition (kLoading), when everything in its log at
// that moment is committed (kServing: what it holds is what the group holds,
// so a state machine over the partition, the group coordinator on
// __consumer_offsets, can load it and answer), and when it stops (kNone:
// leadership moved, the replica failed or was dropped). A replica opened here
// starts at kNone.
//
// DeleteRecords (Replicator::move_log_start, on the io thread): the leader
// proposes a LogStart entry (a Raft control batch consumers never see); each
// replica moves its log start when it appends it, never past its own commit
// (raft/storage/partition_log.h), and the request is answered once the entry
// is committed: every in-sync replica, and so every later leader, holds it.
//
// min.insync.replicas: an acks=all produce is refused with NOT_ENOUGH_REPLICAS
// before anything is proposed when fewer replicas than the topic's
// min.insync.replicas are in sync and alive (heard from within an election
// timeout): Kafka's rule, checked on the leader's live view.
//
// Thread-safety: reconcile, deliver, transfer_leadership and the Replicator
// calls from any thread; the ReplicaSet is touched under one mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/controller/peer_link.h"
#include "cluster/metadata/metadata_image.h"
#include "cluster/partition/partition_manager.h"
#include "cluster/partition/replicator.h"
#include "cluster/replication/replica_set.h"

namespace millrace::broker {

// One partition's leadership as its leader reports it.
struct LeadershipChange {
  cluster::TopicId topic_id{};
  int32_t partition = 0;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  std::vector<int32_t> isr;
  // A reassignment's end: the group's voters once they are the target.
  std::vector<int32_t> voters;
};

enum class Serving : uint8_t { kNone, kLoading, kServing };

struct ReplicationOptions {
  int32_t me = -1;
  int tick_ms = 50;
  int election_ticks = 10;  // 0.5-1 s at 50 ms ticks
  int quiesce_ticks = 20;   // an idle group goes quiet after 1 s
  raft::Durability durability = raft::Durability::kSynced;
  bool auto_leader_rebalance = true;      // auto.leader.rebalance.enable
  int64_t rebalance_interval_ms = 30000;  // leader.imbalance.check.interval.seconds
  // Threads that persist the replicas' appends and raft.state side by side in
  // each round (cluster/replication/io_pool.h), so thousands of partitions
  // electing or appending at once do not queue their fsyncs one by one.
  int io_threads = 8;
  // replica.lag.time.max.ms: a follower stays in sync while it has held every
  // committed entry at some moment within this window (and its broker is heard
  // from within an election timeout).
  int64_t lag_time_max_ms = 30000;
  // leader.replication.throttled.rate: bytes/s of catch-up this broker sends
  // over all partitions it leads; follower.replication.throttled.rate: bytes/s
  // of catch-up it takes in as a follower; 0: no limit. Which replicas:
  // each topic's *.replication.throttled.replicas (cluster/replication/throttle.h).
  int64_t learner_rate = 0;
  int64_t follower_rate = 0;
};

class ReplicationService {
 public:
  using LeadershipSink = std::function<void(std::vector<LeadershipChange>, std::function<void(int16_t error)> done)>;
  using LeaderObserver = std::function<void(const storage::TopicPartition&, Serving)>;

  ReplicationService(ReplicationOptions options, cluster::PartitionManager& partitions);
  ~ReplicationService();

  // Before start().
  void set_leadership_sink(LeadershipSink sink) { sink_ = std::move(sink); }
  void set_leader_observer(LeaderObserver observer) { observer_ = std::move(observer); }
  void start();
  void stop();

  void reconcile(std::shared_ptr<const cluster::MetadataImage> image);
  void deliver(int32_t from, std::vector<raft::Message> messages);
  // Controlled shutdown: every partition led here hands its leadership to
  // another in-sync replica; waits up to wait_ms for them to take it.
  void transfer_leadership(int64_t wait_ms);

  // ElectLeaders PREFERRED on the partitions' leader: each partition led here
  // whose preferred replica may lead and is in sync hands its leadership to
  // it. `done` (on the service thread) gets every partition back with its
  // answer: 0 once the preferred replica leads, REQUEST_TIMED_OUT after
  // wait_ms, NOT_LEADER_OR_FOLLOWER when this broker does not lead it,
  // ELECTION_NOT_NEEDED / PREFERRED_LEADER_NOT_AVAILABLE as the live facts say.
  struct Election {
    std::string topic;
    int32_t partition = 0;
    int16_t error = 0;
    std::string message;
  };
  void elect_preferred(std::vector<Election> partitions, int64_t wait_ms,
                       std::function<void(std::vector<Election>)> done);
  // A Kafka request to another broker's Kafka listener, on a link of its own
  // (a slow answer never holds up the Raft batches); `done` on the service
  // thread, nullopt when the broker is unknown or did not answer.
  void forward(int32_t broker, int16_t api_key, int16_t api_version, std::vector<uint8_t> body, PeerLink::Done done);

  size_t replicas() const;
  size_t leaders() const;

 private:
  class Member;  // one replica's Replicator
  struct Group {
    cluster::TopicId topic_id{};
    storage::TopicPartition tp;
    // The image's replicas of the partition (the first the preferred leader) and
    // its reassignment (adding, removing); its leader steers the group toward it
    // (PartitionReplica::steer).
    cluster::PartitionReplica::Assignment assignment;
    std::vector<int32_t> voters_to_report;  // steer's answer, reported until the move ends
    std::shared_ptr<Member> member;
    LeadershipChange reported;  // the last the sink accepted
    bool has_reported = false;
    int64_t high_watermark = -1;  // as parked fetches were last told
    Serving serving = Serving::kNone;  // as the observer was last told
    int64_t serve_from = -1;           // kLoading: serving once the high watermark reaches it
    bool handed_over = false;          // controlled shutdown: leadership sent away
  };
  struct Pending {  // a producer's state as proposed but maybe not yet appended
    int32_t term = -1;
    int64_t last_offset = -1;  // its newest proposed batch
    storage::ProducerEntry entry;
  };

  cluster::Replicated replicate(int64_t group, std::span<uint8_t> records, int16_t acks,
                                boost::asio::any_io_executor ex);
  cluster::LogStartMove move_log_start(int64_t group, Offset offset, boost::asio::any_io_executor ex);
  void on_tick();
  void schedule_drive();
  void drive_locked(std::map<int32_t, std::vector<raft::Message>>& out);
  void refresh_locked(int64_t g);  // facts, fetch wakeups, reports, serving after a drive
  void set_serving_locked(Group& group, Serving s);
  void send(std::map<int32_t, std::vector<raft::Message>> out);
  void flush_serving();  // tells the observer, outside the lock
  raft::Durability durability_of(const storage::Log& log) const;  // write.caching, else opts_.durability
  void apply_topic_configs();  // write.caching and the throttled-replicas lists, once a second
  cluster::ThrottleScope throttle_of(const storage::Log& log, int32_t partition) const;
  std::vector<int32_t> live_in_sync_locked(const cluster::PartitionReplica& r) const;
  void reconcile_now();
  void report();
  void steer_locked();  // REQUIRES(mu_)
  // A replica moved off this broker: its log emptied, its Raft files deleted.
  void wipe_replica(cluster::Partition& p);
  static constexpr uint64_t kSteerReportTicks = 20;  // a move's end reported again every 1 s until recorded
  std::shared_ptr<PeerLink> link(int32_t broker);
  // Preferred leaders (preferred_leaders.cc), from on_tick.
  void leader_duties();
  void rebalance();
  void check_elections();
  void fail_elections();  // stopping: elections still waiting are answered

  const ReplicationOptions opts_;
  cluster::PartitionManager& partitions_;
  LeadershipSink sink_;
  LeaderObserver observer_;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer timer_;
  std::thread thread_;
  std::atomic<bool> drive_scheduled_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> leaving_{false};  // controlled shutdown begun: TimeoutNow is dropped

  mutable std::mutex mu_;
  cluster::ReplicaSet set_;                                              // GUARDED_BY(mu_)
  std::map<int64_t, Group> groups_;                                      // GUARDED_BY(mu_)
  std::map<int64_t, std::unordered_map<int64_t, Pending>> pending_;      // GUARDED_BY(mu_): by group, producer id
  std::set<int64_t> unreported_;                                         // GUARDED_BY(mu_)
  std::set<int64_t> steering_;  // GUARDED_BY(mu_): groups whose image asks for other voters than they have
  std::set<int32_t> candidates_;  // GUARDED_BY(mu_): brokers that may lead (the latest image)
  std::vector<std::pair<storage::TopicPartition, Serving>> serving_events_;  // GUARDED_BY(mu_)

  // Service thread only.
  std::map<int32_t, std::shared_ptr<PeerLink>> links_;
  std::map<int32_t, std::pair<std::string, int32_t>> addresses_;  // broker -> host, port (from images)
  bool reporting_ = false;
  std::shared_ptr<const cluster::MetadataImage> image_;  // the latest
  bool incomplete_ = false;
  static constexpr uint64_t kDurabilitySweepTicks = 20;  // 1 s at 50 ms ticks
  uint64_t ticks_ = 0;  // a replica placed here waits for its log: reconciled again at the next tick
  struct PendingElection {  // one elect_preferred call
    std::vector<Election> answers;
    std::vector<std::pair<int64_t, int32_t>> moving;  // per answer: group, preferred replica (-1: answered)
    std::chrono::steady_clock::time_point until;
    int ticks = 0;
    std::function<void(std::vector<Election>)> done;
  };
  std::vector<PendingElection> elections_;
  std::chrono::steady_clock::time_point next_rebalance_{};
  std::map<int32_t, std::pair<std::shared_ptr<PeerLink>, std::pair<std::string, int32_t>>> forward_links_;
};

}  // namespace millrace::broker

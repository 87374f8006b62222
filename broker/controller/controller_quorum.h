// The controller quorum on this node: the metadata log's owner thread, its
// clock, its transport, and the controller's duties when this node leads.
//
//   ticks (tick_ms)        -> MetadataLog::tick, then drive
//   Raft batches in        -> deliver() -> step, then drive
//   drive                  -> messages out through one PeerLink per other voter
//   applied records        -> on_state(state copy, applied offset, leader)
//
// Writes: submit(decide) runs `decide` against the committed state on this
// thread, proposes its records and calls done once they are applied here (one
// write in flight at a time, so every decision sees the state its
// predecessors made). Only the active controller writes; elsewhere done gets
// NOT_CONTROLLER and forward() carries a client's request to the leader.
//
// Membership (KRaft's BrokerLifecycleManager and its controller side): this
// node's broker registers with the active controller (a new incarnation id
// each start, epoch = the registration's offset) and heartbeats every
// heartbeat_ms; the leader fences a broker it has not heard from for
// session_ms (BrokerControl) and unfences one that has caught up with the
// metadata log. A controlled shutdown (shutdown()) asks the leader to move
// leadership away and waits for it before the process exits.
//
// Leadership of replicated partitions: a partition of more than one replica
// is a Raft group that elects its own leader (epoch = the Raft term). The
// broker leading one reports it (report_leadership), and the active
// controller writes what is new as PartitionLeaderRecords
// (cluster/controller/partition_leadership.h): on the active controller
// directly, from any other node (an observer too) as a PartitionLeadership
// request (api 10002) over the link its heartbeats take.
//
// The leader also creates `__consumer_offsets` (offsets.topic.num.partitions)
// once every voter's broker is registered (with controller-only voters: once
// brokers stopped arriving for 3 s), or 10 s after it took office.
//
// Observers: a node outside controller.quorum.voters (process.roles=broker)
// is added by the leader as a learner of the metadata log once its broker
// registers. The voters never connect to it: it polls (a RaftBatch with
// Poll set) the leader it knows of, and the answer carries the messages held
// for it, waiting up to kPollWaitMs; a voter that does not lead names the
// one that does.
//
// A dynamic quorum (KIP-853, controller.quorum.bootstrap.servers): the
// voters are the metadata log's configuration, first written by
// `millrace-broker format`. A controller outside it polls the bootstrap
// servers like an observer, and the leader adds any node that polls it as a
// learner. AddRaftVoter (add_voter) waits until that learner has caught up
// with where the log stood when it was asked, registers its endpoints
// (RegisterControllerRecord) so every voter can reach it, then promotes it
// through joint consensus; RemoveRaftVoter (remove_voter) demotes a voter.
// Each answers once the new configuration is committed. Where voters are
// reached: controller.quorum.voters, the identified bootstrap servers, and
// the controller registrations in the log; the active controller registers
// itself.
//
// Thread-safety: deliver, submit, forward, report_leadership, register/heartbeat (the RPC side),
// status and the atomics are callable from any thread; everything else runs
// on the quorum's own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "broker/controller/peer_link.h"
#include "cluster/controller/broker_control.h"
#include "cluster/controller/metadata_log.h"
#include "cluster/controller/partition_leadership.h"
#include "cluster/controller/topic_control.h"
#include "cluster/topics/topic_command.h"
#include "protocol/generated/fetch_snapshot_request.h"
#include "protocol/generated/fetch_snapshot_response.h"
#include "raft/rpc/generated/partition_leadership_request.h"

namespace millrace::broker {

struct QuorumPeer {
  int32_t id = -1;  // below -1: a bootstrap server (controller.quorum.bootstrap.servers) not identified yet
  std::string host;
  uint16_t port = 0;
};

struct ControllerQuorumOptions {
  int32_t me = -1;
  std::vector<QuorumPeer> voters;  // this node included
  int tick_ms = 50;
  int64_t heartbeat_ms = 500;   // broker.heartbeat.interval.ms
  int64_t session_ms = 3000;    // broker.session.timeout.ms
  cluster::BrokerRegistrationRequest self;  // this node's broker
  bool broker = true;  // process.roles has broker: register and heartbeat (a controller-only node does not)
  int32_t offsets_partitions = 50;
  int16_t offsets_replication = 1;
  // A dynamic quorum (see above): `voters` then holds the bootstrap servers
  // (ids below -1) and any initial controllers known by address.
  bool dynamic = false;
  cluster::BrokerEndpoint self_endpoint;   // this node's controller listener, as the others reach it
  cluster::TopicId directory_id{};         // its metadata directory's id (KIP-858)
  std::map<int32_t, cluster::TopicId> initial_directories;  // format --initial-controllers: each voter's
};

// A controller and where it is reached (DescribeQuorum's nodes, DescribeCluster
// on the controller listener).
struct ControllerNode {
  int32_t id = -1;
  cluster::TopicId directory_id{};  // zero: not known
  std::vector<cluster::BrokerEndpoint> endpoints;
};

// A leadership report as it travels (PartitionLeadershipRequest) and back.
raft::rpc::PartitionLeadershipRequest leadership_request(const cluster::LeadershipReport& report);
cluster::LeadershipReport leadership_report(const raft::rpc::PartitionLeadershipRequest& req);

struct WriteOutcome {
  cluster::ControlResult result;
  int64_t applied = -1;  // the leader's applied offset when it answered
};

class ControllerQuorum {
 public:
  using Decide = std::function<cluster::ControlResult(const cluster::MetadataState&)>;
  using Done = std::function<void(WriteOutcome)>;
  using StateListener =
      std::function<void(std::shared_ptr<const cluster::MetadataState>, int64_t applied, int32_t leader)>;

  ControllerQuorum(cluster::MetadataLog& log, ControllerQuorumOptions options);
  ~ControllerQuorum();

  // Set before start(): called on the quorum's thread after every applied change.
  void set_state_listener(StateListener l) { on_state_ = std::move(l); }
  void start();
  // Controlled shutdown: asks the leader to move this broker's leadership
  // away (waits up to `wait_ms`), then stops the thread. announce_shutdown()
  // only asks (the image marks this broker in controlled shutdown, so no one
  // hands it leadership meanwhile); shutdown() asks too if not done.
  void announce_shutdown();
  void shutdown(int64_t wait_ms);
  void stop();
  // After stop(), once nothing posts here any more (the servers that call in
  // have stopped): runs whatever is still queued, so every waiting request is
  // answered while its server still exists.
  void drain();

  void deliver(std::vector<raft::Message> messages);
  void submit(Decide decide, Done done);
  // The RPCs the active controller serves (controller listener).
  void register_broker(cluster::BrokerRegistrationRequest req, Done done);
  struct BeatAnswer {
    int16_t error = 0;
    bool fenced = true, caught_up = false, should_shut_down = false;
  };
  void heartbeat(cluster::BrokerHeartbeatRequest req, std::function<void(BeatAnswer)> done);
  // Sends a client's request frame to the active controller (ControllerForward).
  struct Forwarded {
    int16_t error = 0;  // 0, NOT_CONTROLLER (41), or REQUEST_TIMED_OUT (7) when it could not be sent
    std::vector<uint8_t> response_frame;
    int64_t metadata_offset = -1;
  };
  // `principal` and `client_host`: who sent it (the controller authorizes it as them).
  void forward(std::vector<uint8_t> request_frame, std::string principal, std::string client_host,
               std::function<void(Forwarded)> done);

  // A broker's report of the replicated partitions it leads (any thread):
  // decided here on the active controller, else sent to it (api 10002).
  // done(0) once what it wrote is committed and applied on the controller
  // (at once when there was nothing new); NOT_CONTROLLER (41) or
  // REQUEST_TIMED_OUT (7) when it could not be delivered or answered (retry:
  // the next goes to whoever leads then); BROKER_ID_NOT_REGISTERED,
  // STALE_BROKER_EPOCH or BROKER_NOT_AVAILABLE (fenced) for the reporter.
  // done runs on the quorum's thread: it must not block.
  void report_leadership(cluster::LeadershipReport report, std::function<void(int16_t error)> done);
  // This node's broker epoch (its registration's offset); -1 until registered.
  int64_t broker_epoch() const { return my_epoch_.load(); }
  // The active controller has unfenced this start's registration (its last
  // heartbeat answer said so). The metadata image alone cannot tell: replayed
  // from this node's own log, it still holds the previous start's entry.
  bool unfenced() const { return unfenced_.load(); }
  // The active controller's side (the controller listener's api 10002):
  // NOT_CONTROLLER anywhere else.
  void decide_leadership(cluster::LeadershipReport report, std::function<void(int16_t error)> done);

  // The active controller's side of AllocateProducerIds: a ProducerIdsRecord
  // moving the cluster's next producer id past a block of `count`; done gets
  // an error code and the block's first id.
  void allocate_block(int32_t broker, int64_t epoch, int64_t count, std::function<void(int16_t, int64_t)> done);
  // A broker's side (any thread but the quorum's; blocks): the first id of a
  // new block of `count` from the active controller, retried while there is
  // none until `timeout`; -1 when no block could be had.
  int64_t allocate_producer_ids(int64_t count, std::chrono::milliseconds timeout);

  // A poll from an observer (a broker-only node, a learner of the metadata
  // log: the voters never connect to it). Its messages are stepped; the
  // answer carries what this node holds for it, waiting up to kPollWaitMs for
  // some, and the leader this node knows of, so the observer asks it next.
  static constexpr int64_t kPollWaitMs = 500;
  void poll(int32_t from, std::vector<raft::Message> messages,
            std::function<void(std::optional<std::vector<uint8_t>> reply, int32_t leader)> done);

  // FetchSnapshot (KRaft's snapshot transfer): the bytes of this node's
  // metadata snapshot file at the requested offset, from `position`, at most
  // max_bytes per answer; SNAPSHOT_NOT_FOUND when it has no such file (it was
  // pruned: the follower is sent the newer one), POSITION_OUT_OF_RANGE past its end.
  void serve_snapshot(proto::FetchSnapshotRequest req, std::function<void(proto::FetchSnapshotResponse)> done);

  // AddRaftVoter / RemoveRaftVoter, on the active controller (KIP-853): done
  // once the new configuration is committed, or with the error that stopped it.
  struct VoterChangeResult {
    int16_t error = 0;
    std::string message;
  };
  void add_voter(int32_t id, cluster::TopicId directory, std::vector<cluster::BrokerEndpoint> endpoints,
                 int64_t timeout_ms, std::function<void(VoterChangeResult)> done);
  void remove_voter(int32_t id, cluster::TopicId directory, std::function<void(VoterChangeResult)> done);
  std::vector<ControllerNode> controller_nodes() const;  // any thread

  bool is_leader() const { return leader_.load() == opts_.me; }
  int32_t leader() const { return leader_.load(); }
  int64_t applied() const { return applied_.load(); }
  cluster::QuorumStatus status() const { return log_.status(); }

 private:
  struct Write {
    Decide decide;
    Done done;
  };
  void on_tick();
  void elect_on_refused(PeerLink& l);
  void drive();
  void send(std::vector<raft::Message>& out);
  void pump();
  void fail_writes(int16_t code, const std::string& why);
  void after_applied();
  void leader_duties(int64_t now_ms);
  void broker_lifecycle(int64_t now_ms);
  std::shared_ptr<PeerLink> link(int32_t id);      // Raft batches
  std::shared_ptr<PeerLink> rpc_link(int32_t id);  // requests that wait for an answer
  void run_on_quorum(std::function<void()> fn);

  cluster::MetadataLog& log_;
  ControllerQuorumOptions opts_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer ticker_;
  std::thread thread_;
  // Two connections per peer: a request that waits for a commit (a heartbeat,
  // a forwarded CreateTopics) must never hold up, on the same connection, the
  // Raft acknowledgements that commit needs (requests on a connection are
  // served in order).
  std::map<int32_t, std::shared_ptr<PeerLink>> links_, rpc_links_;
  StateListener on_state_;

  std::atomic<int32_t> leader_{-1};
  std::atomic<int64_t> applied_{-1};
  bool stopped_ = false;

  // Writes (quorum thread).
  std::deque<Write> writes_;
  struct InFlight {
    int64_t offset = -1, term = -1;
    cluster::ControlResult result;
    Done done;
  };
  std::optional<InFlight> in_flight_;
  int64_t leader_term_ = -1;
  int64_t leader_since_ms_ = 0;
  std::unique_ptr<cluster::BrokerControl> membership_;  // the leader's sessions
  int64_t last_expire_ms_ = 0;
  bool offsets_requested_ = false;
  bool features_requested_ = false;  // metadata.version finalized this term (or being written)
  size_t brokers_seen_ = 0;
  int64_t brokers_changed_ms_ = 0;

  // Forwards waiting for an answer, by the leader they went to: failed with
  // NOT_CONTROLLER as soon as another node leads (the sender retries there)
  // rather than waiting on a leader that hung.
  struct PendingForward {
    int32_t leader = -1;
    std::function<void(Forwarded)> done;
  };
  std::map<uint64_t, PendingForward> forwards_;
  uint64_t next_forward_ = 0;

  // This node's broker (quorum thread).
  std::atomic<int64_t> my_epoch_{-1};
  std::atomic<bool> unfenced_{false};
  int64_t last_beat_ms_ = 0;
  bool beat_in_flight_ = false;
  bool want_shutdown_ = false;
  std::atomic<bool> shutdown_done_{false};

  // Declared after io_ on purpose: destroyed before it (timers and links
  // refer to the io_context).
  void step_all(const std::vector<raft::Message>& messages);
  int32_t known_leader() const;
  // Voter side of polls: messages for a node without a link (an observer)
  // wait in its outbox (bounded: Raft resends) until it polls.
  void answer_poll(int32_t to);
  void expire_polls(int64_t now);
  static constexpr size_t kMaxOutbox = 256;
  std::map<int32_t, std::deque<raft::Message>> outbox_;
  struct ParkedPoll {
    std::function<void(std::optional<std::vector<uint8_t>>, int32_t)> done;
    int64_t deadline_ms = 0;
  };
  std::map<int32_t, ParkedPoll> polls_;
  // Observer side: one poll at a time, to the leader it last heard of (or
  // the voters in turn), on its own connection.
  void poll_next();
  void poll_later();
  std::shared_ptr<PeerLink> poll_link(int32_t id);
  bool observer_ = false;
  std::map<int32_t, std::shared_ptr<PeerLink>> poll_links_;
  // Whom the next poll goes to (a key of poll_links_: a node id, or below
  // -1 a bootstrap server whose id is not known yet). nullopt: the next voter in turn.
  std::optional<int32_t> poll_target_;
  void identify(int32_t placeholder, int32_t id);
  int32_t polled_leader_ = -1;   // the leader the last answer named
  size_t voter_turn_ = 0;
  uint64_t poll_id_ = 0;
  bool poll_in_flight_ = false;
  int64_t poll_sent_ms_ = 0;
  std::unique_ptr<boost::asio::steady_timer> poll_timer_;
  // A kSnapshot message for a snapshot this node lacks waits here while the
  // file is fetched (in chunks) from its sender; stepped once it is stored.
  void fetch_snapshot(const raft::Message& m);
  void fetch_snapshot_chunk();
  struct SnapshotFetch {
    raft::Message message;
    std::vector<uint8_t> bytes;
    uint64_t id = 0;
  };
  std::optional<SnapshotFetch> snapshot_fetch_;
  uint64_t next_snapshot_fetch_ = 0;

  // Dynamic quorum (quorum thread unless said).
  struct Address {
    std::string host;
    uint16_t port = 0;
    bool operator==(const Address&) const = default;
  };
  std::map<int32_t, Address> addresses_;  // where each known controller is reached
  void learn_address(int32_t id, const std::string& host, uint16_t port);
  void learn_registered();
  void refresh_links();
  void refresh_nodes();
  void voter_change_duty();
  void register_controllers();
  void finalize_features();
  struct VoterChange {
    bool add = true;
    int32_t id = -1;
    cluster::TopicId directory{};
    std::vector<cluster::BrokerEndpoint> endpoints;
    int64_t deadline_ms = 0;
    int64_t catch_up_to = -1;  // add: the learner's log must reach this end offset
    int phase = 0;             // 0 catching up, 1 registering, 2 configuration proposed
    std::function<void(VoterChangeResult)> done;
    // add: the new voter must answer at the endpoint it gave, as itself (a
    // voter no one can reach would only weaken the quorum).
    std::shared_ptr<PeerLink> probe;
    bool probe_in_flight = false;
    int32_t probe_answer = -2;  // the node id that answered there; -2 none yet
  };
  void probe_voter();
  std::optional<VoterChange> voter_change_;
  void finish_voter_change(int16_t error, std::string message);
  int64_t registered_term_ = -1;  // the term in which this leader last registered the controllers
  mutable std::mutex nodes_mu_;
  std::vector<ControllerNode> nodes_;  // GUARDED_BY(nodes_mu_)
};

}  // namespace millrace::broker

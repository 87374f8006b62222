// The metadata log: the controller quorum's Raft group over the partition
// `__cluster_metadata-0` in a node's metadata directory (raft/storage: the
// partition log is the Raft log, term and vote in `raft.state`), and the
// MetadataState its committed records describe. Each write is one Raft entry:
// a record batch whose records' values are framed metadata records
// (records/codec.h), as in KRaft's log.
//
// open() replays every committed entry into the state, checking each batch's
// CRC-32C; a record that does not apply is reported, never skipped (the log is
// the truth, so a mismatch is a bug to stop on). A torn tail after a crash is
// cut by the partition log's recovery at open: it was never acknowledged (a
// write returns after the sync). Bytes damaged anywhere else (flipped after a
// clean shutdown, say) fail open with kCorruptSegment naming the offset: never
// silently used. A voter of a larger quorum will repair them from its leader;
// a one-voter quorum has no other copy.
//
// Voters: controller.quorum.voters, fixed when the log is first created (its
// first configuration stands below offset 0). With one voter (`make run`) the
// node elects itself at open and write() commits at once; with more, the
// owner drives it: tick() on a clock, step() with the messages other voters
// sent, propose() a batch, then drive() (persist, collect the messages to
// send, apply what committed) after each of them. on_applied, when set, is
// called after every drive() that applied something. A node that is not
// among the voters (a broker-only node) is an observer: it never campaigns,
// and follows the log once the leader adds it as a learner (add_observers).
// Not thread-safe: one owner (the controller's thread) calls it; status() is
// the exception.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cluster/metadata/records/codec.h"
#include "cluster/metadata/state/metadata_state.h"
#include "raft/raft.h"
#include "raft/storage/hard_state_file.h"
#include "raft/storage/partition_log.h"
#include "storage/log.h"
#include "storage/status.h"

namespace millrace::cluster {

inline constexpr const char* kMetadataTopic = "__cluster_metadata";
inline constexpr const char* kMetadataPartitionDir = "__cluster_metadata-0";

// Where the quorum stands (DescribeQuorum's answer).
struct QuorumStatus {
  int32_t leader_id = -1;
  int32_t leader_epoch = -1;     // the Raft term
  int64_t high_watermark = 0;    // commit + 1
  int64_t log_end_offset = 0;    // last + 1
  std::vector<int32_t> voters;
  std::vector<int32_t> observers;  // learners: broker-only nodes following the log
  // The leader's view of each voter (and observer): its log end offset (-1 unknown) and
  // whether it answered within the last election timeout. Empty on followers.
  std::map<int32_t, int64_t> voter_log_end;
  std::map<int32_t, bool> voter_active;
};

struct MetadataLogOptions {
  int32_t me = -1;
  std::vector<int32_t> voters;  // empty: {me}, unless observer
  int election_ticks = 10;      // in ticks of the owner's clock
  // A snapshot of the state (metadata_snapshot.h) once this many bytes of
  // record batches were applied since the last one (Kafka's
  // metadata.log.max.record.bytes.between.snapshots); a restart loads the
  // newest and replays only the log after it.
  int64_t snapshot_bytes = 20 << 20;
  // A broker-only node (not a voter): with no voters listed (it found the
  // quorum through bootstrap servers) it learns them from the leader's log.
  bool observer = false;
  // A dynamic quorum (KIP-853, controller.quorum.bootstrap.servers): the
  // voters are whatever the log's configuration says (its first one written
  // by `millrace-broker format`); open() never makes one up.
  bool dynamic = false;
};

class MetadataLog {
 public:
  // Opens (or creates) the log under `dir`, with `me` as its only voter, and
  // replays it.
  static storage::Result<std::unique_ptr<MetadataLog>> open(const std::filesystem::path& dir, int32_t me);
  static storage::Result<std::unique_ptr<MetadataLog>> open(const std::filesystem::path& dir,
                                                            const MetadataLogOptions& options);
  ~MetadataLog();

  // One voter only: appends `records` as one entry, commits it and applies it;
  // the offset of its last record. REQUIRES: records apply to state() in order
  // (the controller checked them); otherwise kInvalidArgument and nothing changes.
  storage::Result<int64_t> write(const std::vector<records::AnyRecord>& records);

  // Leader only: proposes `records` as one entry (checked against state()
  // first: kInvalidArgument when they do not apply); the offset of its last
  // record once proposed. It is committed when applied_offset() reaches it
  // with this node still leader in the same term (proposed_term).
  storage::Result<int64_t> propose(const std::vector<records::AnyRecord>& records, int64_t* proposed_term = nullptr);
  void tick();
  void step(const raft::Message& m);
  // Persists what Raft asks, appends to `out` the messages to send now, and
  // applies the newly committed entries. An error stops the quorum on this node.
  storage::Status drive(std::vector<raft::Message>& out);
  // Leader only: hands leadership to voter `to` (TimeoutNow once it is caught up).
  bool transfer_leadership(int32_t to) { return raft_->transfer_leadership(raft::NodeId(to)); }
  // `node`'s process is gone (its port refuses connections): if it leads, a
  // new controller is elected within a few ticks (raft::Raft::leader_unreachable).
  void leader_unreachable(int32_t node) { raft_->leader_unreachable(raft::NodeId(node)); }
  bool is_leader() const { return raft_->role() == raft::Role::kLeader; }
  int32_t leader() const { return static_cast<int32_t>(raft_->leader().value()); }
  int64_t term() const { return static_cast<int64_t>(raft_->term().value()); }
  int32_t me() const { return me_; }
  std::function<void(int64_t applied)> on_applied;

  const MetadataState& state() const { return state_; }
  // A copy, safe from any thread (the rest of the class is the owner's).
  QuorumStatus status() const;
  int64_t applied_offset() const { return applied_; }  // -1: nothing applied
  storage::Status close();

 private:
  MetadataLog() = default;
  storage::Status drive();  // one voter: no messages to send
  storage::Status apply_committed();
  storage::Status repair_damaged_tail(raft::HardState& hs, const raft::Config& voters);
  storage::Status hold_votes(int64_t until);
  bool sole_copy(const raft::Config& c) const;  // this node is the only voter: no one to repair from
  bool observer_ = false;
  bool dynamic_ = false;

  std::shared_ptr<storage::Log> storage_;
  std::unique_ptr<raft::PartitionRaftLog> log_;
  std::unique_ptr<raft::HardStateFile> hard_state_;
  std::unique_ptr<raft::Raft> raft_;
  MetadataState state_;
  int64_t applied_ = -1;
  int32_t me_ = -1;

 public:
  // Where open() cut a damaged log (-1: it did not): the broker logs it.
  int64_t repaired_from() const { return repaired_from_; }
  // Votes held until the log reaches this offset again (-1: none): set when a
  // repair cut entries this node had acknowledged as committed.
  int64_t vote_hold() const { return vote_hold_; }

 private:
  int64_t repaired_from_ = -1;
  int64_t vote_hold_ = -1;
  int64_t snapshot_bytes_ = 20 << 20;
  int64_t bytes_since_snapshot_ = 0;
  int64_t snapshot_offset_ = -1;  // the newest snapshot written or loaded
  int64_t snapshots_installed_ = 0;
  std::filesystem::path dir_;     // __cluster_metadata-0

 public:
  int64_t snapshot_offset() const { return snapshot_offset_; }
  // Snapshot transfer (KRaft's FetchSnapshot): a replica whose log the
  // leader's start has passed gets a kSnapshot message; its owner fetches the
  // leader's snapshot file at that offset and stores it here before stepping
  // the message, and drive() then installs it (state and log restart there).
  bool has_snapshot(int64_t offset) const;
  std::optional<std::vector<uint8_t>> snapshot_file(int64_t offset) const;
  storage::Status store_snapshot(int64_t offset, const std::vector<uint8_t>& bytes);
  int64_t log_start() const;
  // Observers (broker-only nodes): Raft learners of the metadata log, sent
  // every entry but never voting or counting toward a commit. Leader only:
  // adds those of `nodes` not yet following (one configuration change; an
  // error while another is in flight: try again later).
  storage::Status add_observers(const std::vector<int32_t>& nodes);
  bool follows(int32_t node) const;   // a voter or an observer in the latest configuration
  bool is_voter(int32_t node) const;  // a voter (of either half) of the latest configuration
  std::vector<int32_t> voters() const;  // the latest configuration's (incoming) voters
  // Dynamic quorum (KIP-853), leader only: promote learner `node` to a voter,
  // or remove voter `node`, through joint consensus. kInvalidArgument (saying
  // why) when it is not a learner / not a voter / the last voter, or another
  // change is in flight.
  storage::Status add_voter(int32_t node);
  storage::Status remove_voter(int32_t node);
  // No configuration change in flight: the latest configuration is not joint
  // and its entry is committed.
  bool config_settled() const;
  // The leader's view of `node`'s log end offset (-1: unknown, or not leader).
  int64_t log_end_of(int32_t node) const;
  int64_t snapshots_installed() const { return snapshots_installed_; }
  std::vector<std::string> skipped_snapshots;  // unreadable snapshot files found at open

 private:
  mutable std::mutex status_mu_;
  QuorumStatus status_;  // GUARDED_BY(status_mu_), refreshed after every drive()
};

}  // namespace millrace::cluster

// Raft, one group, as a pure state machine (etcd/raft's shape): no sockets,
// threads, clocks or files. Driven by tick(), step(message) and propose();
// what it wants done comes back as one Ready value. The same code runs in the
// broker (one Raft per partition replica, one for the controller quorum) and
// in the deterministic simulator (raft/sim).
//
// The driver loop, in this order (REQUIRED: the safety argument depends on it):
//   while (raft.has_ready()) {
//     Ready rd = raft.ready();
//     1. rd.snapshot      -> log.install_snapshot(*rd.snapshot)
//     2. rd.truncate_from -> log.truncate_suffix(*rd.truncate_from)
//     3. rd.entries       -> log.append(rd.entries)
//     4. rd.must_sync     -> log.sync()
//        rd.hard_state    -> then write the term/vote file (HardStateFile) and sync it
//                            (log first: the file's commit index must never vouch
//                            for entries a power loss can still take from the log;
//                            a term/vote newer on disk than the log is harmless)
//     5. rd.messages      -> send (only now: a vote or an append acknowledgement
//                            must never leave before what it promises is durable)
//     6. rd.commit        -> the new commit index (high watermark = commit + 1);
//                            committed entries are in the log, read them there
//     raft.advance(rd);
//   }
// A step whose steps 1-4 failed (I/O error) must not advance: the group stops.
//
// Durability (Options::durability), the promise behind acks=all:
//   kSynced (default): a replica, the leader included, counts toward the
//     majority for an entry only once that entry is synced on it (the driver
//     syncs before sending the acknowledgement; the leader counts itself at
//     advance()). An entry is committed only when a majority has it on disk:
//     any minority may lose power at once and nothing committed is lost.
//   kInMemory (opt-in, per topic): entries count once appended (written, not
//     synced); must_sync is set only for hard-state changes. A simultaneous
//     power loss of a majority can lose committed entries. For topics that
//     trade that for latency.
// Term and vote are always synced before any message that depends on them.
//
// Threading: none inside. The owner calls everything from one thread/strand.
// Randomness (election timeouts) comes from Options::seed: deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raft/log.h"
#include "raft/message.h"
#include "raft/types.h"

namespace millrace::raft {

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* to_string(Role r);

enum class Durability : uint8_t { kSynced, kInMemory };

// Deliberate bugs for the simulator's mutation proof (raft/sim). Compiled in
// only with -DMILLRACE_RAFT_BUGS (the millrace_raft_buggy library); the
// broker's library has none and Options::bug does not exist there.
enum class Bug : uint8_t {
  kNone = 0,
  kVoteWithoutUpToDateCheck,   // grant a vote to a candidate with a shorter log
  kCommitOldTermByCounting,    // commit an earlier term's entry by counting replicas
  kVoteBeforeSync,             // answer a vote without persisting it
  kAcceptStaleTermAppend,      // accept an append from a leader of an older term
  kAckBeforeSync,              // acknowledge an append before it is synced
  kNoTruncateOnConflict,       // keep a conflicting suffix (overwrite in place skipped)
  kLeaveJointEarly,            // leave a joint config counting only the new voters
  kQuiescentIgnoresLeaderVote, // a quiescent follower keeps its lease against its own restarted leader
};
inline constexpr int kBugCount = 9;
const char* to_string(Bug b);

struct Options {
  NodeId id = kNoNode;
  GroupId group{0};
  // Timing, in ticks (the driver decides what a tick is: 100 ms in the broker).
  int election_ticks = 10;   // a follower campaigns after a random [T, 2T) without a leader
  int heartbeat_ticks = 1;   // a leader beats every this many ticks
  bool pre_vote = true;      // ask before bumping the term (a returning partitioned node does not disrupt)
  bool check_quorum = true;  // a leader not hearing from a quorum for T ticks steps down
  // Quiescence (CockroachDB's): a leader whose group has been idle and fully
  // caught up (every replica active and holding the whole log, all of it
  // committed, no change or transfer in flight) for this many ticks sends one
  // last heartbeat marked quiesce and then stays silent; a follower that
  // holds exactly what that beat commits stops its election clock. Anything
  // else wakes them: a proposal, a message to the quiesced leader, an append
  // or unmarked beat to a follower, or wake() from the driver (which must
  // call it when it stops hearing from the leader's node: an idle group no
  // longer notices a dead leader by itself). Safety does not depend on it
  // (timers only). 0: never quiesce.
  int quiesce_ticks = 0;
  // Flow control.
  size_t max_append_bytes = 1 << 20;        // payload bytes per append message (at least one entry)
  size_t max_inflight = 64;                 // unacknowledged append messages per follower
  size_t max_uncommitted_bytes = 64 << 20;  // propose() refuses beyond this (0 = unlimited)
  Durability durability = Durability::kSynced;
  // While this node's log ends below this offset it grants no vote, PreVote
  // included: it lost entries it had acknowledged (a damaged log cut at
  // start), and its vote could elect a leader that lacks them. -1: none.
  Index abstain_until{-1};
  uint64_t seed = 0;
  // Learner catch-up throttle (the driver's token bucket): before an append
  // with entries goes to a learner, learner_budget(to) gives the bytes it may
  // carry now (0: none; it waits for a later tick, an empty append still
  // goes), at least one entry when above 0; learner_sent(to, bytes) is told
  // what it carried.
  std::function<size_t(NodeId to)> learner_budget;
  std::function<void(NodeId to, size_t bytes)> learner_sent;
  // Which peers the throttle governs (`learner`: `to` is one); unset: the
  // learners only. The driver widens it to voters that fell out of sync
  // (Kafka's topic-level throttled-replicas lists) or turns it off.
  std::function<bool(NodeId to, bool learner)> throttles;
  // The follower's side of a throttle: when answering an append (`behind`: it
  // lacks the append's prev), the bytes each append to it should carry at most
  // for now (0: no limit), sent back in the answer's context. While a peer
  // asks for a limit its leader sends it one such append at a time, so a
  // follower pacing its intake is not flooded by the pipeline.
  std::function<size_t(const Message& append, bool behind)> intake_limit;
#ifdef MILLRACE_RAFT_BUGS
  Bug bug = Bug::kNone;
#endif
};

// Role, term and leader as seen by this node; in Ready when it changed.
struct SoftState {
  Role role = Role::kFollower;
  Term term{0};
  NodeId leader = kNoNode;
  bool operator==(const SoftState&) const = default;
};

struct Ready {
  std::optional<SoftState> soft_state;   // changed since the last Ready
  std::optional<HardState> hard_state;   // changed: persist and sync
  std::optional<SnapshotMeta> snapshot;  // install first
  std::optional<Index> truncate_from;    // then truncate the suffix from here
  std::vector<Entry> entries;            // then append these
  bool must_sync = false;                // then sync log and hard state
  std::vector<Message> messages;         // then send
  std::optional<Index> commit;           // the commit index moved to this

  bool empty() const;
};

enum class ProposeError : uint8_t {
  kOk = 0,
  kNotLeader,          // NOT_LEADER_OR_FOLLOWER
  kTransferring,       // leadership is being transferred: retry on the new leader
  kTooMuchUncommitted, // max_uncommitted_bytes reached: back-pressure
  kConfigInFlight,     // a configuration change is not yet committed
  kInvalidConfig,      // the requested change is not allowed (message says why)
};
const char* to_string(ProposeError e);

struct ProposeResult {
  ProposeError error = ProposeError::kOk;
  Index last{-1};  // the entry's index (last offset) when ok
  Term term{0};    // the term it was proposed in: committed iff commit >= last with this term there
  std::string message;
  bool ok() const { return error == ProposeError::kOk; }
};

// Where the leader stands with one follower (etcd's Progress).
struct Progress {
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot };
  State state = State::kProbe;
  Index match{-1};  // highest offset known replicated (and synced, in kSynced)
  Index next{0};    // first offset to send next
  size_t inflight = 0;
  bool recent_active = false;  // heard from since the last CheckQuorum round
  bool learner = false;
};

class Raft {
 public:
  // `log` must outlive the Raft. `restored` is the hard state read back from
  // disk (HardState{} for a new replica). The configuration comes from
  // log.snapshot().config and log.config_entries().
  Raft(Options options, Log& log, HardState restored);
  ~Raft();
  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  void tick();
  // Any message addressed to this node and group; stale, duplicate, reordered
  // and unknown-sender messages are handled (ignored or answered) safely.
  void step(const Message& m);

  // Leader only. Appends an entry covering `record_count` offsets; the driver
  // writes it with offsets [result.last - record_count + 1, result.last] and
  // partitionLeaderEpoch = result.term. `type`: kData, or kLogStart (one
  // offset; opaque to the core); Raft's own kinds are refused (kInvalidConfig).
  ProposeResult propose(Payload data, int32_t record_count = 1, EntryType type = EntryType::kData);
  // Leader only. Moves to `target`: learners change in one step; a change of
  // voters goes through joint consensus (C_old,new, then C_new appended by the
  // leader automatically once the joint config is committed). One change at a
  // time. A leader removed from the voters steps down once C_new is committed.
  ProposeResult propose_config(const Config& target);
  // Leader only: bring `to` (a voter) up to date and send it TimeoutNow.
  // Proposals are refused (kTransferring) until it completes or an election
  // timeout passes.
  bool transfer_leadership(NodeId to);
  // Start an election now (tests, bootstrap of a single-voter group).
  void campaign();
  // Quiescence (Options::quiesce_ticks): whether this replica is quiescent,
  // and waking it (a follower's election clock runs again; a leader beats).
  bool quiesced() const;
  void wake();
  // A hint from the owner: `node`'s process is gone (its port refuses
  // connections). A follower that follows `node` forgets it: its lease ends
  // (it grants votes at once) and it campaigns after 1 + 3 * (its rank among
  // the other voters, in an order of the group's own) ticks instead of a
  // whole election timeout. Safety never depends on it (PreVote and the votes
  // decide); a wrong hint costs at most an election. Anything else: no-op.
  void leader_unreachable(NodeId node);
  // Options::durability at run time (a topic's write.caching changed): applies
  // to entries appended from the next Ready on.
  void set_durability(Durability d);
  Durability durability() const;

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& rd);

  // Introspection (simulator invariants, metrics, the broker's partition view).
  NodeId id() const;
  Role role() const;
  Term term() const;
  NodeId leader() const;
  Index commit() const;            // last committed offset (-1: none)
  Index last_index() const;        // last offset in log + unstable
  const Config& config() const;    // the latest configuration in the log (committed or not)
  HardState hard_state() const;
  std::optional<Progress> progress(NodeId follower) const;  // leader only

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace millrace::raft

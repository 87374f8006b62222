// Incremental fetch sessions (KIP-227), the broker side.
//
// A consumer that sends Fetch v7+ with (session id, epoch) = (0, 0) asks for
// a full fetch that opens a session: the broker remembers the partitions it
// asked for and what it last told the client about each (high watermark, log
// start offset). Afterwards the client sends (id, epoch > 0) requests that
// list only partitions that changed (a new fetch offset, say) plus forgotten
// ones; the broker answers only the partitions with records or changed
// metadata or an error. The request's session metadata decides the mode:
//
//   session id  epoch   meaning
//   0           -1      full fetch, no session (sessionless)
//   0           0       full fetch, open a new session
//   id          0       close session id, full fetch, open a new session
//   id          -1      close session id, full fetch, no session
//   id          > 0     incremental fetch in session id; the epoch must be
//                       the one the session expects (1 after creation, then
//                       +1 per request, wrapping from INT32_MAX to 1)
//
// Errors (the whole response carries only the error, session id 0):
// FETCH_SESSION_ID_NOT_FOUND (unknown or evicted id), INVALID_FETCH_SESSION_EPOCH
// (wrong epoch, e.g. a duplicate request), FETCH_SESSION_TOPIC_ID_ERROR (a
// session opened with topic ids, Fetch v13+, continued without them or the
// other way round).
//
// Bounded: at most `max_slots` sessions (`max.incremental.fetch.session.cache.slots`).
// When a new session finds the cache full it may evict, as Kafka's
// FetchSessionCache does: first the least recently used session if it has
// been idle longer than `eviction_ms`; otherwise the smallest session
// (fewest partitions, then lowest id) among those older than `eviction_ms`,
// and only if the new session has more partitions than it. If neither
// applies the full fetch is answered without a session (id 0). Every
// session here is a consumer's (no follower fetches on a single node), so
// Kafka's "privileged" class does not arise.
//
// Thread-safety: every method may be called from any thread (one mutex; each
// call holds it for O(partitions in the request) work, eviction scans are
// O(sessions) and only happen when the cache is full).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace millrace::broker {

using TopicId = std::array<uint8_t, 16>;

// A partition as the request names it: by topic id (Fetch v13+, `topic`
// empty) or by name (v7-12, `topic_id` zero).
struct FetchKey {
  TopicId topic_id{};
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const FetchKey&) const = default;
};

// What the client asked for a partition.
struct FetchParams {
  int64_t fetch_offset = 0;
  int32_t max_bytes = 0;
  int32_t current_leader_epoch = -1;
  int64_t log_start_offset = -1;
};

struct FetchTarget {
  FetchKey key;
  FetchParams params;
};

// What the broker answered for a partition: decides whether an incremental
// response must carry it.
struct PartitionResult {
  int16_t error = 0;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  bool has_records = false;
  bool preferred_read_replica = false;  // names another replica to read from (always sent, as Kafka does)
};

enum class SessionError { kNone, kIdNotFound, kInvalidEpoch, kTopicIdError };

enum class FetchMode {
  kSessionless,  // answer every partition of the request, session id 0
  kFull,         // answer every partition, then call create()
  kIncremental,  // answer the session's partitions filtered by finish_incremental()
  kError,        // answer only `error`
};

struct FetchPlan {
  FetchMode mode = FetchMode::kSessionless;
  SessionError error = SessionError::kNone;
  int32_t session_id = 0;  // kIncremental: the session
  int32_t epoch = 0;       // kIncremental: the epoch this request moved the session to
  // What to read, in response order: the request's partitions (full,
  // sessionless) or every partition of the session (incremental).
  std::vector<FetchTarget> partitions;
};

struct SessionRequest {
  int32_t session_id = 0;
  int32_t epoch = -1;
  bool uses_topic_ids = false;  // Fetch v13+
  std::vector<FetchTarget> partitions;
  std::vector<FetchKey> forgotten;
};

struct FetchSessionStats {
  int64_t sessions = 0;
  int64_t partitions = 0;           // summed over sessions
  uint64_t created = 0;             // sessions opened
  uint64_t evictions = 0;           // sessions evicted to make room
  uint64_t incremental_fetches = 0; // requests served incrementally
  uint64_t full_fetches_declined = 0;  // full fetches that found no room for a session
};

constexpr int32_t kInitialEpoch = 0;
constexpr int32_t kFinalEpoch = -1;
// The epoch that follows `epoch` (Kafka's FetchMetadata.nextEpoch).
int32_t next_fetch_epoch(int32_t epoch);

class FetchSessionCache {
 public:
  struct Options {
    size_t max_slots = 1000;
    int64_t eviction_ms = 120000;
    uint64_t seed = 0;  // session id generator seed; 0 = from std::random_device
  };
  explicit FetchSessionCache(Options options);

  // Decides how to serve a request, and for an incremental one applies it
  // to the session (adds/updates its partitions, removes forgotten ones,
  // moves the epoch on). A session left with no partitions is closed and
  // the request served sessionless.
  FetchPlan plan(const SessionRequest& req, int64_t now_ms);

  // After a kFull plan's response is built: opens a session holding
  // `partitions` (with `results`, the answer given for each) if there is
  // room or something may be evicted. Returns its id, or 0 for none.
  // REQUIRES: results.size() == partitions.size().
  int32_t create(bool uses_topic_ids, const std::vector<FetchTarget>& partitions,
                 const std::vector<PartitionResult>& results, int64_t now_ms);

  // After a kIncremental plan's reads: sets include[i] for the partitions
  // the response must carry (records, changed high watermark or log start
  // offset, an error), records what is sent and moves those partitions to
  // the end of the session's order (so a capped response rotates fairly).
  // Returns kInvalidEpoch if another request moved the session on meanwhile
  // and kIdNotFound if it was closed or evicted; then nothing is included.
  // REQUIRES: plan/results as returned/built for that plan.
  SessionError finish_incremental(const FetchPlan& plan, const std::vector<PartitionResult>& results,
                                  std::vector<bool>& include);

  FetchSessionStats stats() const;

 private:
  struct Cached {
    FetchKey key;
    FetchParams params;
    int64_t high_watermark = -1;     // as last sent; -1 forces the next send
    int64_t log_start_offset = -1;
  };
  struct Session {
    int32_t id = 0;
    int32_t epoch = 0;
    bool uses_topic_ids = false;
    int64_t created_ms = 0;
    int64_t last_used_ms = 0;
    int64_t cached_size = 0;  // order.size() as counted in stats_.partitions
    std::list<Cached> order;                                   // response order
    std::map<FetchKey, std::list<Cached>::iterator> by_key;   // into `order`
  };

  void remove_locked(int32_t id);
  void touch_locked(Session& s, int64_t now_ms);
  bool try_evict_locked(size_t new_size, int64_t now_ms);
  int32_t new_id_locked();

  const Options options_;
  mutable std::mutex mu_;
  std::unordered_map<int32_t, std::unique_ptr<Session>> sessions_;  // GUARDED_BY(mu_)
  std::set<std::pair<int64_t, int32_t>> lru_;                       // (last used, id), GUARDED_BY(mu_)
  std::mt19937 rng_;                                                // GUARDED_BY(mu_)
  FetchSessionStats stats_;                                         // GUARDED_BY(mu_) except sessions
};

}  // namespace millrace::broker

// Preferred leaders: the replication service's rebalance tick and ElectLeaders
// (preferred_leaders.h; the decision itself is cluster/replication/preferred_leader.h).
#include "broker/replication/preferred_leaders.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "broker/handlers/await_callback.h"
#include "cluster/replication/preferred_leader.h"
#include "protocol/generated/error_codes.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::broker {

namespace asio = boost::asio;
using Election = ReplicationService::Election;
using cluster::PreferredVerdict;
using E = proto::ErrorCode;

namespace {

constexpr int16_t kElectLeadersVersion = 2;  // flexible: a peer link's request header v2

// A partition whose leadership does not move: why, as ElectLeaders answers it.
void answer_unmoved(Election& a, const cluster::PreferredChoice& c) {
  a.error = proto::code(c.verdict == PreferredVerdict::kAlreadyLeader ? E::kElectionNotNeeded
                                                                      : E::kPreferredLeaderNotAvailable);
  a.message = c.why();
}

void answer(Election& a, E error, std::string message) {
  a.error = proto::code(error);
  a.message = std::move(message);
}

}  // namespace

// ---- on the leader (the service thread) ----

void ReplicationService::leader_duties() {
  check_elections();
  if (!opts_.auto_leader_rebalance || !image_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = std::chrono::milliseconds(opts_.rebalance_interval_ms);
  if (next_rebalance_ == std::chrono::steady_clock::time_point{}) next_rebalance_ = now + interval;
  if (now < next_rebalance_) return;
  next_rebalance_ = now + interval;
  rebalance();
}

// One attempt per group per interval: a transfer that does not take (the
// preferred replica fell behind, or died) is retried at the next check only.
void ReplicationService::rebalance() {
  const std::set<int32_t> candidates = image_->leader_candidates();
  size_t moving = 0;
  {
    std::lock_guard lock(mu_);
    for (auto& [g, group] : groups_) {
      const cluster::PartitionReplica* peek = set_.peek(g);
      if (!peek || !peek->is_leader()) continue;
      const cluster::TopicImage* t = image_->topic(group.topic_id);
      if (!t || static_cast<size_t>(group.tp.partition) >= t->partitions.size()) continue;
      const auto& replicas = t->partitions[static_cast<size_t>(group.tp.partition)].replicas;
      const auto c = cluster::choose_preferred_leader(opts_.me, replicas, live_in_sync_locked(*peek), candidates);
      if (c.verdict != PreferredVerdict::kMove || !set_.get(g)->transfer_leadership(c.preferred)) continue;
      ++moving;
      spdlog::info("event=preferred_leader_transfer topic={} partition={} to={} reason=rebalance", group.tp.topic,
                   group.tp.partition, c.preferred);
    }
  }
  if (moving > 0) schedule_drive();
}

void ReplicationService::elect_preferred(std::vector<Election> partitions, int64_t wait_ms,
                                         std::function<void(std::vector<Election>)> done) {
  asio::post(io_, [this, partitions = std::move(partitions), wait_ms, done = std::move(done)]() mutable {
    PendingElection e;
    e.answers = std::move(partitions);
    e.moving.assign(e.answers.size(), {0, -1});
    e.until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    e.done = std::move(done);
    const std::set<int32_t> candidates = image_ ? image_->leader_candidates() : std::set<int32_t>{};
    bool any = false;
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < e.answers.size(); ++i) {
        Election& a = e.answers[i];
        const cluster::TopicImage* t = image_ ? image_->topic(a.topic) : nullptr;
        const cluster::PartitionImage* p = image_ ? image_->partition(a.topic, a.partition) : nullptr;
        const int64_t g = t ? cluster::group_id(t->id, a.partition) : 0;
        cluster::PartitionReplica* r = p && !stopped_.load() && groups_.count(g) ? set_.get(g) : nullptr;
        if (!r || !r->is_leader()) {
          answer(a, E::kNotLeaderOrFollower,
                 "broker " + std::to_string(opts_.me) + " does not lead this partition" +
                     (r ? " (leader " + std::to_string(r->leader()) + ")" : ""));
          continue;
        }
        const auto c = cluster::choose_preferred_leader(opts_.me, p->replicas, live_in_sync_locked(*r), candidates);
        if (c.verdict != PreferredVerdict::kMove) {
          answer_unmoved(a, c);
          continue;
        }
        r->transfer_leadership(c.preferred);
        e.moving[i] = {g, c.preferred};
        any = true;
        spdlog::info("event=preferred_leader_transfer topic={} partition={} to={} reason=elect_leaders", a.topic,
                     a.partition, c.preferred);
      }
    }
    if (!any) return e.done(std::move(e.answers));
    elections_.push_back(std::move(e));
    schedule_drive();
  });
}

// Each tick: answered once the preferred replica leads (this replica follows
// it), or at the deadline. Raft drops a transfer that has not taken after an
// election timeout, so a leader still here asks again then.
void ReplicationService::check_elections() {
  if (elections_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<PendingElection> finished;
  bool again = false;
  {
    std::lock_guard lock(mu_);
    for (auto it = elections_.begin(); it != elections_.end();) {
      PendingElection& e = *it;
      const bool expired = now >= e.until;
      const bool retry = ++e.ticks % std::max(1, opts_.election_ticks) == 0;
      size_t open = 0;
      for (size_t i = 0; i < e.moving.size(); ++i) {
        auto& [g, to] = e.moving[i];
        if (to < 0) continue;
        const cluster::PartitionReplica* r = set_.peek(g);
        if (r && r->leader() == to) {
          e.answers[i].error = 0;
          e.answers[i].message.clear();
          to = -1;
        } else if (expired) {
          answer(e.answers[i], E::kRequestTimedOut,
                 "preferred replica " + std::to_string(to) + " did not take leadership in time" +
                     (r ? " (leader now " + std::to_string(r->leader()) + ")" : ""));
          to = -1;
        } else {
          ++open;
          if (retry && r && r->is_leader()) again = set_.get(g)->transfer_leadership(to) || again;
        }
      }
      if (open > 0) {
        ++it;
        continue;
      }
      finished.push_back(std::move(e));
      it = elections_.erase(it);
    }
  }
  for (auto& e : finished) e.done(std::move(e.answers));
  if (again) schedule_drive();
}

void ReplicationService::fail_elections() {
  auto pending = std::move(elections_);
  elections_.clear();
  for (auto& e : pending) {
    for (size_t i = 0; i < e.moving.size(); ++i)
      if (e.moving[i].second >= 0) answer(e.answers[i], E::kNotLeaderOrFollower, "the broker is stopping");
    e.done(std::move(e.answers));
  }
}

void ReplicationService::forward(int32_t broker, int16_t api_key, int16_t api_version, std::vector<uint8_t> body,
                                 PeerLink::Done done) {
  asio::post(io_, [this, broker, api_key, api_version, body = std::move(body), done = std::move(done)]() mutable {
    auto a = addresses_.find(broker);
    if (stopped_.load() || a == addresses_.end()) return done(std::nullopt);
    auto& [l, at] = forward_links_[broker];
    if (l && at != a->second) {  // the broker moved
      l->stop();
      l.reset();
    }
    if (!l) {
      l = std::make_shared<PeerLink>(io_, opts_.me, broker, a->second.first, static_cast<uint16_t>(a->second.second));
      l->start();
      at = a->second;
    }
    l->request(api_key, api_version, std::move(body), std::move(done));
  });
}

// ---- ElectLeaders, on the broker asked ----

namespace {

// The answers a leader sent back for `asked`, in the same order.
std::vector<Election> forwarded_answers(std::vector<Election> asked, int32_t leader,
                                        const std::optional<std::vector<uint8_t>>& body) {
  proto::ElectLeadersResponse resp;
  bool ok = false;
  if (body) {
    wire::Reader r(*body);
    ok = resp.decode(r, kElectLeadersVersion) && r.ok();
  }
  for (Election& a : asked) {
    if (!ok) {
      answer(a, E::kRequestTimedOut, "the partition's leader, broker " + std::to_string(leader) + ", did not answer");
      continue;
    }
    if (resp.error_code != 0) {
      a.error = resp.error_code;
      a.message = "from leader broker " + std::to_string(leader);
      continue;
    }
    answer(a, E::kUnknownServerError, "leader broker " + std::to_string(leader) + " did not answer for it");
    for (const auto& t : resp.replica_election_results)
      if (t.topic == a.topic)
        for (const auto& p : t.partition_result)
          if (p.partition_id == a.partition) {
            a.error = p.error_code;
            a.message = p.error_message.value_or("");
          }
  }
  return asked;
}

std::vector<uint8_t> encode_request(const std::vector<Election>& asked, int64_t wait_ms) {
  proto::ElectLeadersRequest req;
  req.election_type = 0;
  req.timeout_ms = static_cast<int32_t>(wait_ms);
  req.topic_partitions.emplace();
  for (const Election& a : asked) {
    auto it = std::find_if(req.topic_partitions->begin(), req.topic_partitions->end(),
                           [&](const auto& t) { return t.topic == a.topic; });
    if (it == req.topic_partitions->end()) {
      req.topic_partitions->emplace_back().topic = a.topic;
      it = std::prev(req.topic_partitions->end());
    }
    it->partitions.push_back(a.partition);
  }
  std::vector<uint8_t> body;
  wire::Writer w(body);
  req.encode(w, kElectLeadersVersion);
  return body;
}

}  // namespace

asio::awaitable<proto::ElectLeadersResponse> elect_preferred_leaders(ReplicationService* replication,
                                                                     const cluster::MetadataImage& image, int32_t me,
                                                                     const proto::ElectLeadersRequest& req,
                                                                     bool forwarded) {
  const int64_t wait_ms =
      req.timeout_ms > 0 ? std::min<int64_t>(req.timeout_ms, kMaxElectionWaitMs) : kMaxElectionWaitMs;
  std::vector<Election> all;  // every partition asked about, in order
  if (req.topic_partitions) {
    for (const auto& t : *req.topic_partitions)
      for (int32_t p : t.partitions) all.push_back({t.topic, p, 0, ""});
  } else {
    for (const auto& [name, t] : image.topics())
      for (const auto& p : t.partitions)
        if (p.replicas.size() > 1 && p.leader != p.replicas.front()) all.push_back({name, p.index, 0, ""});
  }
  const std::set<int32_t> candidates = image.leader_candidates();
  std::map<int32_t, std::vector<size_t>> by_leader;  // the partitions each leader is asked to move
  for (size_t i = 0; i < all.size(); ++i) {
    Election& a = all[i];
    const cluster::PartitionImage* p = image.partition(a.topic, a.partition);
    if (!p) {
      answer(a, E::kUnknownTopicOrPartition, "no such topic or partition");
    } else if (p->replicas.size() < 2 || !replication) {
      answer(a, E::kElectionNotNeeded, "a partition of one replica: that replica leads it");
    } else if (auto c = cluster::choose_preferred_leader(p->leader, p->replicas, p->isr, candidates);
               c.verdict != PreferredVerdict::kMove) {
      answer_unmoved(a, c);
    } else if (p->leader != me && forwarded) {
      answer(a, E::kNotLeaderOrFollower, "broker " + std::to_string(me) + " does not lead this partition (its "
                                         "metadata names broker " + std::to_string(p->leader) + "): retry");
    } else {
      by_leader[p->leader].push_back(i);
    }
  }
  if (!by_leader.empty()) {
    auto ex = co_await asio::this_coro::executor;
    // Kept in a variable, not co_awaited as a temporary (GCC 12 destroys a
    // temporary's lambda captures too early in a coroutine).
    auto answered = await_callback<std::vector<Election>>(
        ex, [replication, me, wait_ms, all, by_leader](std::function<void(std::vector<Election>)> cb) {
          // Every answer comes on the replication service's thread: no lock.
          struct Join {
            std::vector<Election> all;
            size_t open;
            std::function<void(std::vector<Election>)> cb;
          };
          auto join = std::make_shared<Join>(Join{all, by_leader.size(), std::move(cb)});
          for (const auto& [leader, idx] : by_leader) {
            auto merge = [join, idx](std::vector<Election> got) {
              for (size_t k = 0; k < idx.size() && k < got.size(); ++k) join->all[idx[k]] = std::move(got[k]);
              if (--join->open == 0) join->cb(std::move(join->all));
            };
            std::vector<Election> asked;
            for (size_t k : idx) asked.push_back(all[k]);
            if (leader == me) {
              replication->elect_preferred(std::move(asked), wait_ms, std::move(merge));
              continue;
            }
            auto body = encode_request(asked, wait_ms);
            replication->forward(leader, proto::ElectLeadersRequest::kApiKey, kElectLeadersVersion, std::move(body),
                                 [asked = std::move(asked), merge, leader = leader](auto resp) mutable {
                                   merge(forwarded_answers(std::move(asked), leader, resp));
                                 });
          }
        });
    all = co_await std::move(answered);
  }
  proto::ElectLeadersResponse resp;
  for (Election& a : all) {
    if (resp.replica_election_results.empty() || resp.replica_election_results.back().topic != a.topic) {
      auto& t = resp.replica_election_results.emplace_back();
      t.topic = a.topic;
    }
    auto& p = resp.replica_election_results.back().partition_result.emplace_back();
    p.partition_id = a.partition;
    p.error_code = a.error;
    p.error_message = a.error == 0 ? std::nullopt : std::optional<std::string>(std::move(a.message));
  }
  co_return resp;
}

}  // namespace millrace::broker

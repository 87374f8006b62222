#include "broker/controller/controller_quorum.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <future>

#include "cluster/metadata/features.h"
#include "protocol/generated/allocate_producer_ids_request.h"
#include "protocol/generated/allocate_producer_ids_response.h"
#include "protocol/generated/broker_heartbeat_request.h"
#include "protocol/generated/broker_heartbeat_response.h"
#include "protocol/generated/broker_registration_request.h"
#include "protocol/generated/broker_registration_response.h"
#include "protocol/generated/error_codes.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "raft/rpc/codec.h"
#include "raft/rpc/generated/controller_forward_request.h"
#include "raft/rpc/generated/controller_forward_response.h"
#include "raft/rpc/generated/partition_leadership_response.h"
#include "raft/rpc/generated/raft_batch_response.h"

namespace millrace::broker {

namespace asio = boost::asio;

namespace {

constexpr int16_t kNotController = static_cast<int16_t>(proto::ErrorCode::kNotController);
constexpr const char* kOffsets = "__consumer_offsets";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <typename Msg>
std::vector<uint8_t> encode_body(const Msg& m, int16_t version) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  m.encode(w, version);
  return out;
}

template <typename Msg>
std::optional<Msg> decode_body(const std::vector<uint8_t>& bytes, int16_t version) {
  Msg m;
  wire::Reader r(bytes);
  if (!m.decode(r, version) || !r.ok()) return std::nullopt;
  return m;
}

}  // namespace

ControllerQuorum::ControllerQuorum(cluster::MetadataLog& log, ControllerQuorumOptions options)
    : log_(log), opts_(std::move(options)), work_(asio::make_work_guard(io_)), ticker_(io_) {}

ControllerQuorum::~ControllerQuorum() { stop(); }

std::shared_ptr<PeerLink> ControllerQuorum::link(int32_t id) {
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second;
}

std::shared_ptr<PeerLink> ControllerQuorum::rpc_link(int32_t id) {
  auto it = rpc_links_.find(id);
  return it == rpc_links_.end() ? nullptr : it->second;
}

void ControllerQuorum::run_on_quorum(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

void ControllerQuorum::start() {
  observer_ = opts_.dynamic ? !log_.is_voter(opts_.me)
                            : std::none_of(opts_.voters.begin(), opts_.voters.end(),
                                           [&](const auto& v) { return v.id == opts_.me; });
  for (const auto& v : opts_.voters)
    if (v.id >= 0 && v.id != opts_.me && !v.host.empty()) addresses_[v.id] = {v.host, v.port};
  for (const auto& v : opts_.voters) {
    if (v.id == opts_.me) continue;
    // Static voters are linked at once; a dynamic quorum links the voters of
    // its configuration as their addresses become known (refresh_links).
    if (!opts_.dynamic && v.id >= 0)
      for (auto* links : {&links_, &rpc_links_}) {
        auto l = std::make_shared<PeerLink>(io_, opts_.me, v.id, v.host, v.port);
        (*links)[v.id] = l;
        if (links == &links_) elect_on_refused(*l);
        l->start();
      }
    // Bootstrap servers (ids below -1) are linked once their ids are known (identify).
    if (observer_ || (opts_.dynamic && v.id < -1)) {
      auto l = std::make_shared<PeerLink>(io_, opts_.me, v.id, v.host, v.port);
      poll_links_[v.id] = l;
      l->start();
    }
  }
  poll_timer_ = std::make_unique<asio::steady_timer>(io_);
  run_on_quorum([this] {
    learn_registered();  // the controllers of the state replayed at open
    drive();
    on_tick();
    poll_next();
  });
  thread_ = std::thread([this] { io_.run(); });
}

void ControllerQuorum::stop() {
  if (!thread_.joinable()) return;
  run_on_quorum([this] {
    stopped_ = true;
    ticker_.cancel();
    for (auto& [id, l] : links_) l->stop();
    for (auto& [id, l] : rpc_links_) l->stop();
    for (auto& [id, l] : poll_links_) l->stop();
    if (poll_timer_) poll_timer_->cancel();
    auto polls = std::move(polls_);
    polls_.clear();
    for (auto& [id, p] : polls) p.done(std::nullopt, -1);
    fail_writes(kNotController, "the controller is shutting down");
    if (voter_change_) finish_voter_change(kNotController, "the controller is shutting down");
    auto forwards = std::move(forwards_);
    forwards_.clear();
    for (auto& [id, f] : forwards) f.done({kNotController, {}, -1});
    work_.reset();
  });
  // Give the links a moment to close, then stop whatever is left.
  for (int i = 0; i < 50 && !io_.stopped(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  io_.stop();
  thread_.join();
  drain();
}

void ControllerQuorum::drain() {
  if (thread_.joinable()) return;
  // Run what is still queued (a heartbeat or forward that arrived during the
  // shutdown): with stopped_ set each answers NOT_CONTROLLER at once, on this
  // thread, while the servers whose coroutines wait for those answers still
  // exist. Left queued, the handlers would be destroyed with io_, after the
  // servers, resuming coroutines on a dead executor (ASan caught it).
  io_.restart();
  for (int i = 0; i < 20 && io_.poll() > 0; ++i) {
  }
}

void ControllerQuorum::announce_shutdown() {
  if (!thread_.joinable()) return;
  run_on_quorum([this] {
    if (want_shutdown_) return;
    want_shutdown_ = true;
    last_beat_ms_ = 0;
    broker_lifecycle(now_ms());
  });
}

void ControllerQuorum::shutdown(int64_t wait_ms) {
  if (!thread_.joinable()) return;
  announce_shutdown();
  const auto until = now_ms() + wait_ms;
  // With no quorum leader for a second (the others are gone too) there is no
  // one to move leadership to: stop rather than wait out the timeout.
  int64_t leaderless_since = -1;
  while (!shutdown_done_.load() && now_ms() < until) {
    if (leader_.load() < 0) {
      if (leaderless_since < 0) leaderless_since = now_ms();
      if (now_ms() - leaderless_since > 1000) break;
    } else {
      leaderless_since = -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The quorum's own leadership goes to another voter rather than waiting for
  // an election timeout.
  std::promise<void> moved;
  run_on_quorum([this, &moved] {
    if (log_.is_leader())
      for (int32_t v : log_.voters())
        if (v != opts_.me && log_.transfer_leadership(v)) {
          std::vector<raft::Message> out;
          (void)log_.drive(out);
          send(out);
          break;
        }
    moved.set_value();
  });
  moved.get_future().wait_for(std::chrono::seconds(1));
  const auto transfer_until = now_ms() + 1000;
  while (is_leader() && status().voters.size() > 1 && now_ms() < transfer_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop();
}

// A voter whose port refuses the Raft link's reconnect is gone (crashed,
// killed), not cut off: if it was the active controller, another is elected
// within a few ticks instead of an election timeout (same thread as on_tick).
void ControllerQuorum::elect_on_refused(PeerLink& l) {
  l.on_refused([this, id = l.peer()] {
    if (stopped_ || log_.leader() != id) return;
    log_.leader_unreachable(id);
    drive();
  });
}

void ControllerQuorum::on_tick() {
  if (stopped_) return;
  log_.tick();
  drive();
  const auto now = now_ms();
  expire_polls(now);
  broker_lifecycle(now);
  leader_duties(now);
  voter_change_duty();
  ticker_.expires_after(std::chrono::milliseconds(opts_.tick_ms));
  ticker_.async_wait([this](boost::system::error_code ec) {
    if (!ec) on_tick();
  });
}

void ControllerQuorum::send(std::vector<raft::Message>& out) {
  std::map<int32_t, std::vector<raft::Message>> by_peer;
  for (auto& m : out) by_peer[static_cast<int32_t>(m.to.value())].push_back(std::move(m));
  out.clear();
  for (auto& [to, msgs] : by_peer) {
    if (auto l = link(to)) {
      l->request(raft::rpc::RaftBatchRequest::kApiKey, raft::rpc::kBatchVersion,
                 raft::rpc::encode_batch(raft::NodeId(opts_.me), raft::NodeId(to), msgs));
    } else if (log_.follows(to)) {
      // An observer: it takes these when it polls.
      auto& box = outbox_[to];
      for (auto& m : msgs) box.push_back(std::move(m));
      while (box.size() > kMaxOutbox) box.pop_front();
      answer_poll(to);
    }
  }
}

int32_t ControllerQuorum::known_leader() const {
  // An observer hears of a new leader from the voters' answers to its polls
  // before the new leader's first message reaches it.
  if (observer_ && polled_leader_ >= 0) return polled_leader_;
  return log_.leader();
}

void ControllerQuorum::answer_poll(int32_t to) {
  auto p = polls_.find(to);
  auto box = outbox_.find(to);
  if (p == polls_.end() || box == outbox_.end() || box->second.empty()) return;
  std::vector<raft::Message> msgs(std::make_move_iterator(box->second.begin()), std::make_move_iterator(box->second.end()));
  box->second.clear();
  auto done = std::move(p->second.done);
  polls_.erase(p);
  done(raft::rpc::encode_batch(raft::NodeId(opts_.me), raft::NodeId(to), msgs), log_.leader());
}

void ControllerQuorum::expire_polls(int64_t now) {
  for (auto it = polls_.begin(); it != polls_.end();) {
    if (it->second.deadline_ms > now && log_.is_leader()) {
      ++it;
      continue;
    }
    auto done = std::move(it->second.done);
    it = polls_.erase(it);
    done(std::nullopt, log_.leader());
  }
}

void ControllerQuorum::poll(int32_t from, std::vector<raft::Message> messages,
                            std::function<void(std::optional<std::vector<uint8_t>>, int32_t)> done) {
  run_on_quorum([this, from, messages = std::move(messages), done = std::move(done)]() mutable {
    if (stopped_) return done(std::nullopt, -1);
    if (!messages.empty()) {
      step_all(messages);
      drive();
    }
    // Only the leader sends to observers: anyone else names it at once.
    if (!log_.is_leader()) return done(std::nullopt, log_.leader());
    // Any node that polls follows the log as a learner (KRaft's observers
    // fetch as they please): a broker-only node, or a controller waiting to be
    // added as a voter (AddRaftVoter). One change at a time: the next poll retries.
    if (from >= 0 && from != opts_.me && !log_.follows(from) && log_.config_settled() && !voter_change_ &&
        log_.add_observers({from}).ok()) {
      spdlog::info("event=metadata_observers_added nodes={} reason=poll", from);
      drive();
    }
    if (auto old = polls_.find(from); old != polls_.end()) {
      auto d = std::move(old->second.done);
      polls_.erase(old);
      d(std::nullopt, log_.leader());
    }
    polls_[from] = {std::move(done), now_ms() + kPollWaitMs};
    answer_poll(from);
  });
}

void ControllerQuorum::identify(int32_t placeholder, int32_t id) {
  auto it = poll_links_.find(placeholder);
  if (it == poll_links_.end()) return;
  auto peer = std::find_if(opts_.voters.begin(), opts_.voters.end(), [&](const auto& v) { return v.id == placeholder; });
  if (peer == opts_.voters.end()) return;
  if (poll_links_.count(id)) {  // two bootstrap addresses of one node: keep the first
    return;
  }
  spdlog::info("event=quorum_bootstrap_server_identified address={}:{} node={}", peer->host, peer->port, id);
  peer->id = id;
  poll_links_[id] = std::move(it->second);
  poll_links_.erase(it);
  addresses_[id] = {peer->host, peer->port};
  for (auto* links : {&links_, &rpc_links_}) {
    if (links->count(id)) continue;
    auto l = std::make_shared<PeerLink>(io_, opts_.me, id, peer->host, peer->port);
    (*links)[id] = l;
    if (links == &links_) elect_on_refused(*l);
    l->start();
  }
  refresh_nodes();
}

void ControllerQuorum::learn_address(int32_t id, const std::string& host, uint16_t port) {
  if (id < 0 || id == opts_.me || host.empty()) return;
  Address a{host, port};
  auto it = addresses_.find(id);
  if (it != addresses_.end() && it->second == a) return;
  if (it != addresses_.end()) {
    // The controller moved: reconnect to where it is now.
    spdlog::info("event=controller_address_changed node={} address={}:{}", id, host, port);
    for (auto* links : {&links_, &rpc_links_, &poll_links_})
      if (auto l = links->find(id); l != links->end()) {
        l->second->stop();
        links->erase(l);
      }
  }
  addresses_[id] = a;
}

void ControllerQuorum::learn_registered() {
  for (const auto& [id, c] : log_.state().controllers())
    if (!c.endpoints.empty()) learn_address(id, c.endpoints.front().host, c.endpoints.front().port);
  refresh_links();
  refresh_nodes();
}

void ControllerQuorum::refresh_links() {
  // Every voter of the configuration this node can reach (a dynamic quorum's
  // voters change; a static quorum's were all linked at start).
  for (int32_t v : log_.voters()) {
    if (v == opts_.me) continue;
    auto a = addresses_.find(v);
    if (a == addresses_.end()) continue;
    for (auto* links : {&links_, &rpc_links_}) {
      if (links->count(v)) continue;
      auto l = std::make_shared<PeerLink>(io_, opts_.me, v, a->second.host, a->second.port);
      (*links)[v] = l;
      if (links == &links_) elect_on_refused(*l);
      l->start();
    }
  }
}

void ControllerQuorum::refresh_nodes() {
  std::map<int32_t, ControllerNode> nodes;
  for (const auto& [id, a] : addresses_)
    nodes[id] = {id, {}, {{opts_.self_endpoint.name.empty() ? "CONTROLLER" : opts_.self_endpoint.name, a.host, a.port, 0}}};
  for (const auto& [id, c] : log_.state().controllers()) nodes[id] = {id, c.directory_id, c.endpoints};
  if (!opts_.self_endpoint.host.empty()) nodes[opts_.me] = {opts_.me, opts_.directory_id, {opts_.self_endpoint}};
  std::vector<ControllerNode> out;
  for (auto& [id, n] : nodes) out.push_back(std::move(n));
  std::lock_guard lk(nodes_mu_);
  nodes_ = std::move(out);
}

std::vector<ControllerNode> ControllerQuorum::controller_nodes() const {
  std::lock_guard lk(nodes_mu_);
  return nodes_;
}

std::shared_ptr<PeerLink> ControllerQuorum::poll_link(int32_t id) {
  auto it = poll_links_.find(id);
  if (it != poll_links_.end()) return it->second;
  auto a = addresses_.find(id);
  if (a == addresses_.end()) return nullptr;
  auto l = std::make_shared<PeerLink>(io_, opts_.me, id, a->second.host, a->second.port);
  poll_links_[id] = l;
  l->start();
  return l;
}

void ControllerQuorum::poll_later() {
  poll_timer_->expires_after(std::chrono::milliseconds(opts_.tick_ms));
  poll_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec) poll_next();
  });
}

void ControllerQuorum::poll_next() {
  if (stopped_ || !observer_ || poll_links_.empty()) return;
  if (poll_in_flight_) {
    // A voter that died with the poll queued or unanswered: give it up.
    if (now_ms() - poll_sent_ms_ < 2 * kPollWaitMs + 1000) return;
    poll_in_flight_ = false;
    polled_leader_ = -1;
    poll_target_.reset();
  }
  if (!poll_target_ || !poll_link(*poll_target_)) {
    const auto& v = opts_.voters[voter_turn_++ % opts_.voters.size()];
    poll_target_ = v.id;
    if (!poll_link(v.id)) {  // this node itself, or an address not known
      poll_target_.reset();
      return poll_later();
    }
  }
  int32_t target = *poll_target_;
  const uint64_t id = ++poll_id_;
  poll_in_flight_ = true;
  poll_sent_ms_ = now_ms();
  poll_link(target)->request(
      raft::rpc::RaftBatchRequest::kApiKey, raft::rpc::kBatchVersion,
      raft::rpc::encode_batch(raft::NodeId(opts_.me), target < 0 ? raft::kNoNode : raft::NodeId(target), {},
                              /*poll=*/true),
      [this, target, id](std::optional<std::vector<uint8_t>> body) mutable {
        if (id != poll_id_ || stopped_) return;
        poll_in_flight_ = false;
        auto resp = body ? decode_body<raft::rpc::RaftBatchResponse>(*body, raft::rpc::kBatchVersion) : std::nullopt;
        if (resp && target < 0 && resp->node_id >= 0 && resp->node_id != opts_.me) {
          identify(target, resp->node_id);  // a bootstrap server said who it is
          target = resp->node_id;
        }
        if (resp && resp->reply && target >= 0) {
          auto batch = raft::rpc::decode_batch(*resp->reply, raft::NodeId(target), raft::NodeId(opts_.me));
          if (batch.ok()) {
            step_all(batch.messages);
            drive();
          } else {
            spdlog::warn("event=bad_poll_reply from={} error=\"{}\"", target, batch.error);
          }
        }
        if (resp && resp->error_code == 0 && resp->leader_id == target) {
          polled_leader_ = target;  // the leader: poll it again at once
          poll_next();
          return;
        }
        // Not (or no longer) the leader: the one it names (when its address
        // is known), else the next voter in turn.
        polled_leader_ = resp && resp->leader_id >= 0 ? resp->leader_id : -1;
        poll_target_.reset();
        if (polled_leader_ >= 0 && polled_leader_ != target && poll_link(polled_leader_)) poll_target_ = polled_leader_;
        poll_later();
      });
  poll_timer_->expires_after(std::chrono::milliseconds(2 * kPollWaitMs + 1000));
  poll_timer_->async_wait([this, id](boost::system::error_code ec) {
    if (!ec && id == poll_id_) poll_next();  // the watchdog: unanswered
  });
}

void ControllerQuorum::drive() {
  if (stopped_) return;
  const int64_t before = log_.applied_offset();
  std::vector<raft::Message> out;
  if (auto st = log_.drive(out); !st.ok()) {
    // Fail-stop: the metadata log cannot be trusted past an I/O error.
    spdlog::error("event=metadata_quorum_failed error=\"{}\"", st.to_string());
    stopped_ = true;
    fail_writes(static_cast<int16_t>(proto::ErrorCode::kKafkaStorageError), st.to_string());
    return;
  }
  send(out);
  if (opts_.dynamic && observer_ == log_.is_voter(opts_.me)) {
    // Added to (or removed from) the voters: voters are sent to, observers poll.
    observer_ = !observer_;
    spdlog::info("event=quorum_role_changed node={} role={}", opts_.me, observer_ ? "observer" : "voter");
    refresh_links();
    if (observer_) {
      polled_leader_ = -1;
      poll_target_.reset();
      run_on_quorum([this] { poll_next(); });
    }
  }
  const int32_t leader = known_leader();
  if (leader != leader_.load()) {
    spdlog::info("event=metadata_leader_changed leader={} term={}", leader, log_.term());
    std::vector<std::function<void(Forwarded)>> failed;
    for (auto it = forwards_.begin(); it != forwards_.end();) {
      if (it->second.leader != leader) {
        failed.push_back(std::move(it->second.done));
        it = forwards_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& done : failed) done({kNotController, {}, -1});
    beat_in_flight_ = false;  // the next heartbeat goes to the new leader at once
    last_beat_ms_ = 0;
  }
  leader_.store(leader);
  if (log_.is_leader() && log_.term() != leader_term_) {
    leader_term_ = log_.term();
    leader_since_ms_ = now_ms();
    membership_ = std::make_unique<cluster::BrokerControl>(opts_.session_ms);
    offsets_requested_ = false;
    features_requested_ = false;
    spdlog::info("event=controller_active node={} term={}", opts_.me, leader_term_);
  } else if (!log_.is_leader() && leader_term_ >= 0) {
    leader_term_ = -1;
    membership_.reset();
    fail_writes(kNotController, "this node is no longer the active controller");
  }
  if (log_.applied_offset() != before) after_applied();
}

void ControllerQuorum::after_applied() {
  const int64_t applied = log_.applied_offset();
  applied_.store(applied);
  learn_registered();
  if (on_state_)
    on_state_(std::make_shared<const cluster::MetadataState>(log_.state()), applied, known_leader());
  if (in_flight_ && applied >= in_flight_->offset) {
    auto w = std::move(*in_flight_);
    in_flight_.reset();
    if (log_.is_leader() && log_.term() == w.term) {
      w.done({std::move(w.result), applied});
    } else {
      w.done({{kNotController, "leadership moved before the write was known to commit; retry", {}}, applied});
    }
    run_on_quorum([this] { pump(); });
  }
}

void ControllerQuorum::fail_writes(int16_t code, const std::string& why) {
  if (in_flight_) {
    auto w = std::move(*in_flight_);
    in_flight_.reset();
    w.done({{code, why, {}}, log_.applied_offset()});
  }
  auto pending = std::move(writes_);
  writes_.clear();
  for (auto& w : pending) w.done({{code, why, {}}, log_.applied_offset()});
}

void ControllerQuorum::pump() {
  while (!in_flight_ && !writes_.empty() && !stopped_) {
    auto w = std::move(writes_.front());
    writes_.pop_front();
    if (!log_.is_leader()) {
      w.done({{kNotController, "this node is not the active controller", {}}, log_.applied_offset()});
      continue;
    }
    auto r = w.decide(log_.state());
    if (!r.ok() || r.records.empty()) {
      w.done({std::move(r), log_.applied_offset()});
      continue;
    }
    int64_t term = -1;
    auto off = log_.propose(r.records, &term);
    if (!off.ok()) {
      w.done({{off.status().code() == storage::Errc::kClosed ? kNotController
                                                            : static_cast<int16_t>(proto::ErrorCode::kUnknownServerError),
               off.status().to_string(),
               {}},
              log_.applied_offset()});
      continue;
    }
#ifdef MILLRACE_UNSAFE_CONTROLLER_ACK
    // The chaos suite's proof that its checker can fail (tests/chaos): a
    // write answered once proposed, before a majority holds it. Never in a
    // real build (CMake option MILLRACE_UNSAFE_CONTROLLER_ACK, off).
    w.done({std::move(r), *off});
    drive();
    continue;
#endif
    in_flight_ = InFlight{*off, term, std::move(r), std::move(w.done)};
    drive();
  }
}

void ControllerQuorum::deliver(std::vector<raft::Message> messages) {
  run_on_quorum([this, messages = std::move(messages)] {
    if (stopped_) return;
    step_all(messages);
    drive();
  });
}

void ControllerQuorum::step_all(const std::vector<raft::Message>& messages) {
  for (const auto& m : messages) {
    if (m.type == raft::MessageType::kSnapshot && m.snapshot.index.value() > log_.applied_offset() &&
        !log_.has_snapshot(m.snapshot.index.value())) {
      fetch_snapshot(m);
      continue;
    }
    log_.step(m);
  }
}

void ControllerQuorum::fetch_snapshot(const raft::Message& m) {
  if (snapshot_fetch_ && snapshot_fetch_->message.snapshot == m.snapshot) {
    snapshot_fetch_->message = m;  // the newest copy is the one stepped
    return;
  }
  spdlog::info("event=metadata_snapshot_fetch offset={} term={} from={}", m.snapshot.index.value(),
               m.snapshot.term.value(), m.from.value());
  snapshot_fetch_ = SnapshotFetch{m, {}, next_snapshot_fetch_++};
  fetch_snapshot_chunk();
}

void ControllerQuorum::fetch_snapshot_chunk() {
  if (!snapshot_fetch_) return;
  const auto& m = snapshot_fetch_->message;
  auto l = rpc_link(static_cast<int32_t>(m.from.value()));
  if (!l) {
    snapshot_fetch_.reset();  // the leader sends the snapshot again
    return;
  }
  proto::FetchSnapshotRequest req;
  req.replica_id = opts_.me;
  req.max_bytes = 8 << 20;
  auto& t = req.topics.emplace_back();
  t.name = cluster::kMetadataTopic;
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.current_leader_epoch = static_cast<int32_t>(m.term.value());
  p.snapshot_id.end_offset = m.snapshot.index.value() + 1;  // Kafka's snapshot ids name the offset after
  p.snapshot_id.epoch = static_cast<int32_t>(m.snapshot.term.value());
  p.position = static_cast<int64_t>(snapshot_fetch_->bytes.size());
  const uint64_t id = snapshot_fetch_->id;
  l->request(proto::FetchSnapshotRequest::kApiKey, 1, encode_body(req, 1),
             [this, id](std::optional<std::vector<uint8_t>> body) {
               if (!snapshot_fetch_ || snapshot_fetch_->id != id) return;
               auto resp = body ? decode_body<proto::FetchSnapshotResponse>(*body, 1) : std::nullopt;
               const proto::FetchSnapshotResponse::TopicSnapshot::PartitionSnapshot* part = nullptr;
               if (resp && resp->error_code == 0 && resp->topics.size() == 1 && resp->topics[0].partitions.size() == 1)
                 part = &resp->topics[0].partitions[0];
               auto& f = *snapshot_fetch_;
               const int64_t offset = f.message.snapshot.index.value();
               if (!part || part->error_code != 0 || part->position != static_cast<int64_t>(f.bytes.size()) ||
                   part->size > (int64_t{1} << 31) ||
                   static_cast<int64_t>(f.bytes.size() + part->unaligned_records.bytes.size()) > part->size) {
                 spdlog::warn("event=metadata_snapshot_fetch_failed offset={} error={}", offset,
                              !resp ? -1 : (part ? part->error_code : resp->error_code));
                 snapshot_fetch_.reset();  // the leader sends the snapshot (maybe a newer one) again
                 return;
               }
               f.bytes.insert(f.bytes.end(), part->unaligned_records.bytes.begin(), part->unaligned_records.bytes.end());
               if (static_cast<int64_t>(f.bytes.size()) < part->size) {
                 if (part->unaligned_records.bytes.empty()) snapshot_fetch_.reset();
                 else fetch_snapshot_chunk();
                 return;
               }
               auto done = std::move(*snapshot_fetch_);
               snapshot_fetch_.reset();
               if (auto st = log_.store_snapshot(offset, done.bytes); !st.ok()) {
                 spdlog::warn("event=metadata_snapshot_refused offset={} error=\"{}\"", offset, st.to_string());
                 return;
               }
               spdlog::info("event=metadata_snapshot_installed offset={} bytes={}", offset, done.bytes.size());
               log_.step(done.message);
               drive();
             });
}

void ControllerQuorum::serve_snapshot(proto::FetchSnapshotRequest req,
                                      std::function<void(proto::FetchSnapshotResponse)> done) {
  run_on_quorum([this, req = std::move(req), done = std::move(done)] {
    proto::FetchSnapshotResponse resp;
    if (req.topics.size() != 1 || req.topics[0].name != cluster::kMetadataTopic || req.topics[0].partitions.size() != 1 ||
        req.topics[0].partitions[0].partition != 0) {
      resp.error_code = static_cast<int16_t>(proto::ErrorCode::kInvalidRequest);
      return done(std::move(resp));
    }
    const auto& want = req.topics[0].partitions[0];
    auto& t = resp.topics.emplace_back();
    t.name = cluster::kMetadataTopic;
    auto& p = t.partitions.emplace_back();
    p.index = 0;
    p.snapshot_id = {want.snapshot_id.end_offset, want.snapshot_id.epoch, {}};
    p.current_leader.leader_id = log_.leader();
    p.current_leader.leader_epoch = static_cast<int32_t>(log_.term());
    auto file = log_.snapshot_file(want.snapshot_id.end_offset - 1);
    if (!file) {
      p.error_code = static_cast<int16_t>(proto::ErrorCode::kSnapshotNotFound);
      return done(std::move(resp));
    }
    p.size = static_cast<int64_t>(file->size());
    p.position = want.position;
    if (want.position < 0 || want.position > p.size) {
      p.error_code = static_cast<int16_t>(proto::ErrorCode::kPositionOutOfRange);
      return done(std::move(resp));
    }
    const int64_t n = std::min<int64_t>(p.size - want.position, std::max(req.max_bytes, 1));
    p.unaligned_records.is_null = false;
    p.unaligned_records.bytes.assign(file->begin() + want.position, file->begin() + want.position + n);
    done(std::move(resp));
  });
}

void ControllerQuorum::submit(Decide decide, Done done) {
  run_on_quorum([this, decide = std::move(decide), done = std::move(done)]() mutable {
    if (stopped_) {
      done({{kNotController, "the controller is shutting down", {}}, -1});
      return;
    }
    writes_.push_back({std::move(decide), std::move(done)});
    pump();
  });
}

void ControllerQuorum::register_broker(cluster::BrokerRegistrationRequest req, Done done) {
  submit(
      [this, req](const cluster::MetadataState& state) -> cluster::ControlResult {
        if (!membership_) return {kNotController, "this node is not the active controller", {}};
        // Kafka's broker epoch: the offset the registration record will have.
        return membership_->register_broker(state, req, log_.status().log_end_offset, now_ms());
      },
      [this, id = req.id, done = std::move(done)](WriteOutcome o) {
        // Answer with the broker's epoch (its registration record's offset).
        if (o.result.ok())
          if (auto it = log_.state().brokers().find(id); it != log_.state().brokers().end()) o.applied = it->second.epoch;
        done(std::move(o));
      });
}

void ControllerQuorum::heartbeat(cluster::BrokerHeartbeatRequest req, std::function<void(BeatAnswer)> done) {
  submit(
      [this, req](const cluster::MetadataState& state) -> cluster::ControlResult {
        if (!membership_) return {kNotController, "this node is not the active controller", {}};
        // Caught up once it has applied its own registration (KRaft's rule).
        return membership_->heartbeat(state, req, req.epoch, now_ms());
      },
      [this, req, done = std::move(done)](WriteOutcome o) {
        BeatAnswer a;
        a.error = o.result.error;
        if (a.error == 0) {
          const auto& brokers = log_.state().brokers();
          auto it = brokers.find(req.id);
          a.fenced = it == brokers.end() || it->second.fenced;
          a.caught_up = req.metadata_offset >= req.epoch;
          a.should_shut_down = req.want_shutdown && cluster::BrokerControl::can_shut_down(log_.state(), req.id);
        }
        done(a);
      });
}

void ControllerQuorum::allocate_block(int32_t broker, int64_t epoch, int64_t count,
                                      std::function<void(int16_t, int64_t)> done) {
  auto start = std::make_shared<int64_t>(-1);
  submit(
      [broker, epoch, count, start](const cluster::MetadataState& state) -> cluster::ControlResult {
        cluster::records::ProducerIdsRecord r;
        r.broker_id = broker;
        r.broker_epoch = epoch;
        *start = state.next_producer_id();
        r.next_producer_id = *start + count;
        return {0, "", {r}};
      },
      [start, done = std::move(done)](WriteOutcome o) { done(o.result.error, o.result.ok() ? *start : -1); });
}

int64_t ControllerQuorum::allocate_producer_ids(int64_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = std::make_shared<std::promise<int64_t>>();
    auto answer = got->get_future();
    run_on_quorum([this, count, got] {
      const int32_t leader = known_leader();
      auto finish = [got](int16_t error, int64_t start) { got->set_value(error == 0 ? start : -1); };
      if (leader == opts_.me) return allocate_block(opts_.me, my_epoch_.load(), count, finish);
      auto l = leader >= 0 ? rpc_link(leader) : nullptr;
      if (!l) return finish(kNotController, -1);
      proto::AllocateProducerIdsRequest req;
      req.broker_id = opts_.me;
      req.broker_epoch = my_epoch_.load();
      l->request(proto::AllocateProducerIdsRequest::kApiKey, 0, encode_body(req, 0),
                 [finish](std::optional<std::vector<uint8_t>> body) {
                   auto resp = body ? decode_body<proto::AllocateProducerIdsResponse>(*body, 0) : std::nullopt;
                   if (!resp) return finish(static_cast<int16_t>(proto::ErrorCode::kRequestTimedOut), -1);
                   finish(resp->error_code, resp->producer_id_start);
                 });
    });
    if (answer.wait_until(deadline) != std::future_status::ready) break;
    if (int64_t start = answer.get(); start >= 0) return start;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return -1;
}

void ControllerQuorum::forward(std::vector<uint8_t> request_frame, std::string principal, std::string client_host,
                               std::function<void(Forwarded)> done) {
  run_on_quorum([this, frame = std::move(request_frame), principal = std::move(principal),
                 client_host = std::move(client_host), done = std::move(done)]() mutable {
    const int32_t leader = known_leader();
    auto l = leader >= 0 && leader != opts_.me ? rpc_link(leader) : nullptr;
    if (!l) {
      done({kNotController, {}, -1});
      return;
    }
    raft::rpc::ControllerForwardRequest req;
    req.request_data = std::move(frame);
    req.principal = std::move(principal);
    req.client_host = std::move(client_host);
    const uint64_t id = next_forward_++;
    forwards_[id] = {leader, std::move(done)};
    l->request(raft::rpc::ControllerForwardRequest::kApiKey, 0, encode_body(req, 0),
               [this, id](std::optional<std::vector<uint8_t>> body) {
                 auto it = forwards_.find(id);
                 if (it == forwards_.end()) return;  // already failed: leadership moved
                 auto done = std::move(it->second.done);
                 forwards_.erase(it);
                 Forwarded f;
                 auto resp = body ? decode_body<raft::rpc::ControllerForwardResponse>(*body, 0) : std::nullopt;
                 if (!resp) {
                   f.error = static_cast<int16_t>(proto::ErrorCode::kRequestTimedOut);
                 } else {
                   f.error = resp->error_code;
                   f.response_frame = std::move(resp->response_data);
                   f.metadata_offset = resp->metadata_offset;
                 }
                 done(std::move(f));
               });
  });
}

raft::rpc::PartitionLeadershipRequest leadership_request(const cluster::LeadershipReport& report) {
  raft::rpc::PartitionLeadershipRequest req;
  req.broker_id = report.broker_id;
  req.broker_epoch = report.broker_epoch;
  for (const auto& p : report.partitions) {
    auto& out = req.partitions.emplace_back();
    out.topic_id.bytes = p.topic;
    out.partition_index = p.partition;
    out.leader = p.leader;
    out.leader_epoch = p.leader_epoch;
    out.isr = p.isr;
    out.voters = p.voters;
  }
  return req;
}

cluster::LeadershipReport leadership_report(const raft::rpc::PartitionLeadershipRequest& req) {
  cluster::LeadershipReport report{req.broker_id, req.broker_epoch, {}};
  for (const auto& p : req.partitions)
    report.partitions.push_back({p.topic_id.bytes, p.partition_index, p.leader, p.leader_epoch, p.isr, p.voters});
  return report;
}

void ControllerQuorum::decide_leadership(cluster::LeadershipReport report, std::function<void(int16_t error)> done) {
  submit(
      [report = std::move(report)](const cluster::MetadataState& state) {
        auto r = cluster::report_leadership(state, report);
        if (!r.message.empty())
          spdlog::debug("event=partition_leadership_skipped broker={} message=\"{}\"", report.broker_id, r.message);
        return r;
      },
      [done = std::move(done)](WriteOutcome o) { done(o.result.error); });
}

void ControllerQuorum::report_leadership(cluster::LeadershipReport report, std::function<void(int16_t error)> done) {
  run_on_quorum([this, report = std::move(report), done = std::move(done)]() mutable {
    if (stopped_) return done(kNotController);
    // The route of this broker's heartbeats: itself when it leads the
    // quorum, else the rpc link to the leader it knows (an observer has one too).
    const int32_t leader = known_leader();
    if (leader == opts_.me) return decide_leadership(std::move(report), std::move(done));
    auto l = leader >= 0 ? rpc_link(leader) : nullptr;
    if (!l) return done(kNotController);
    l->request(raft::rpc::PartitionLeadershipRequest::kApiKey, 0, encode_body(leadership_request(report), 0),
               [done = std::move(done)](std::optional<std::vector<uint8_t>> body) {
                 auto resp = body ? decode_body<raft::rpc::PartitionLeadershipResponse>(*body, 0) : std::nullopt;
                 done(resp ? resp->error_code : static_cast<int16_t>(proto::ErrorCode::kRequestTimedOut));
               });
  });
}

void ControllerQuorum::broker_lifecycle(int64_t now) {
  // A heartbeat or registration unanswered for two intervals (its leader hung
  // with the connection open, or lost office) is given up: the next goes to
  // whoever leads now. A late answer is still taken (epochs are checked).
  if (!opts_.broker) return;  // a controller-only node has no broker to register
  if (beat_in_flight_ && now - last_beat_ms_ > 2 * opts_.heartbeat_ms) beat_in_flight_ = false;
  if (beat_in_flight_ || now - last_beat_ms_ < opts_.heartbeat_ms) return;
  const int32_t leader = known_leader();
  if (leader < 0) return;
  last_beat_ms_ = now;
  beat_in_flight_ = true;
  if (my_epoch_ < 0) {
    auto registered = [this](int16_t error, int64_t epoch, const std::string& why) {
      beat_in_flight_ = false;
      if (error != 0) {
        spdlog::warn("event=broker_registration_failed node={} error={} message=\"{}\"", opts_.me, error, why);
        return;
      }
      my_epoch_ = epoch;
      last_beat_ms_ = 0;  // the first heartbeat right away: it unfences
      spdlog::info("event=broker_registered node={} epoch={}", opts_.me, epoch);
    };
    if (leader == opts_.me) {
      register_broker(opts_.self, [this, registered](WriteOutcome o) {
        registered(o.result.error, o.result.ok() ? o.applied : -1, o.result.message);
      });
      return;
    }
    proto::BrokerRegistrationRequest req;
    req.broker_id = opts_.me;
    req.incarnation_id.bytes = opts_.self.incarnation;
    for (const auto& e : opts_.self.endpoints) {
      auto& l = req.listeners.emplace_back();
      l.name = e.name;
      l.host = e.host;
      l.port = e.port;
      l.security_protocol = e.security_protocol;
    }
    req.rack = opts_.self.rack;
    auto l = rpc_link(leader);
    if (!l) {
      beat_in_flight_ = false;
      return;
    }
    l->request(proto::BrokerRegistrationRequest::kApiKey, 2, encode_body(req, 2),
               [this, registered](std::optional<std::vector<uint8_t>> body) {
                 auto resp = body ? decode_body<proto::BrokerRegistrationResponse>(*body, 2) : std::nullopt;
                 if (!resp) return registered(static_cast<int16_t>(proto::ErrorCode::kRequestTimedOut), -1, "no answer");
                 registered(resp->error_code, resp->broker_epoch, "");
               });
    return;
  }
  cluster::BrokerHeartbeatRequest beat{opts_.me, my_epoch_, log_.applied_offset(), want_shutdown_};
  auto answered = [this](BeatAnswer a) {
    beat_in_flight_ = false;
    if (a.error == static_cast<int16_t>(proto::ErrorCode::kStaleBrokerEpoch) ||
        a.error == static_cast<int16_t>(proto::ErrorCode::kBrokerIdNotRegistered)) {
      spdlog::info("event=broker_reregister node={} error={}", opts_.me, a.error);
      my_epoch_ = -1;
      unfenced_.store(false);
      last_beat_ms_ = 0;
      return;
    }
    if (a.error == 0) unfenced_.store(!a.fenced);
    if (a.error == 0 && want_shutdown_ && a.should_shut_down) shutdown_done_.store(true);
    if (a.error == 0 && want_shutdown_ && !a.should_shut_down) last_beat_ms_ = now_ms() - opts_.heartbeat_ms + 50;
  };
  if (leader == opts_.me) {
    heartbeat(beat, answered);
    return;
  }
  proto::BrokerHeartbeatRequest req;
  req.broker_id = beat.id;
  req.broker_epoch = beat.epoch;
  req.current_metadata_offset = beat.metadata_offset;
  req.want_shut_down = beat.want_shutdown;
  auto l = rpc_link(leader);
  if (!l) {
    beat_in_flight_ = false;
    return;
  }
  l->request(proto::BrokerHeartbeatRequest::kApiKey, 1, encode_body(req, 1),
             [answered](std::optional<std::vector<uint8_t>> body) {
               auto resp = body ? decode_body<proto::BrokerHeartbeatResponse>(*body, 1) : std::nullopt;
               BeatAnswer a;
               if (!resp) {
                 a.error = static_cast<int16_t>(proto::ErrorCode::kRequestTimedOut);
               } else {
                 a.error = resp->error_code;
                 a.fenced = resp->is_fenced;
                 a.caught_up = resp->is_caught_up;
                 a.should_shut_down = resp->should_shut_down;
               }
               answered(a);
             });
}

void ControllerQuorum::leader_duties(int64_t now) {
  if (!log_.is_leader() || !membership_) return;
  if (now - last_expire_ms_ >= opts_.heartbeat_ms / 2) {
    last_expire_ms_ = now;
    submit(
        [this](const cluster::MetadataState& state) -> cluster::ControlResult {
          if (!membership_) return {};
          auto fenced = membership_->expire(state, now_ms());
          for (const auto& r : fenced)
            if (auto* f = std::get_if<cluster::records::FenceBrokerRecord>(&r))
              spdlog::warn("event=broker_fenced node={} epoch={} reason=session_expired", f->id, f->epoch);
          return {0, "", std::move(fenced)};
        },
        [](WriteOutcome) {});
  }
  if (opts_.dynamic) register_controllers();
  finalize_features();
  const auto& state = log_.state();
  // Broker-only nodes follow the metadata log as observers (Raft learners),
  // added once registered.
  std::vector<int32_t> observers;
  for (const auto& [id, b] : state.brokers())
    if (!log_.follows(id)) observers.push_back(id);
  if (!observers.empty()) {
    if (log_.add_observers(observers).ok()) {
      spdlog::info("event=metadata_observers_added nodes={}", fmt::join(observers, ","));
      drive();
    }
  }
  if (offsets_requested_ || state.topic(kOffsets)) return;
  // Placed over the brokers registered by then, so wait for them: every
  // voter's broker; with controller-only voters (none registers), brokers
  // that stopped arriving for 3 s; in any case 10 s after taking office.
  bool all_registered = true, any_voter = false;
  for (int32_t v : log_.voters()) {
    auto it = state.brokers().find(v);
    all_registered = all_registered && it != state.brokers().end() && !it->second.fenced;
    any_voter = any_voter || it != state.brokers().end();
  }
  if (state.brokers().size() != brokers_seen_) {
    brokers_seen_ = state.brokers().size();
    brokers_changed_ms_ = now;
  }
  const bool settled = !any_voter && brokers_seen_ > 0 && now - brokers_changed_ms_ >= 3000;
  if (!all_registered && !settled && now - leader_since_ms_ < 10000) return;
  offsets_requested_ = true;
  submit(
      [this](const cluster::MetadataState& s) -> cluster::ControlResult {
        if (s.topic(kOffsets)) return {};
        // offsets.topic.replication.factor, capped by the live brokers (one
        // on a single node: make run).
        cluster::NewTopic t{kOffsets, opts_.offsets_partitions, opts_.offsets_replication,
                            {{"cleanup.policy", "compact"}}, /*cap_to_live=*/true};
        return cluster::create_topic(s, t, cluster::random_topic_id());
      },
      [this](WriteOutcome o) {
        if (!o.result.ok()) {
          spdlog::warn("event=offsets_topic_create_failed error={} message=\"{}\"", o.result.error, o.result.message);
          offsets_requested_ = false;
        } else if (!o.result.records.empty()) {
          spdlog::info("event=offsets_topic_created partitions={} max_replication_factor={}", opts_.offsets_partitions,
                       opts_.offsets_replication);
        }
      });
}

// metadata.version, as Kafka's bootstrap records it: once in the log (a new
// cluster's first active controller, or the first after an upgrade from a
// Millrace that wrote none), never changed after.
void ControllerQuorum::finalize_features() {
  if (features_requested_ || log_.state().features().count("metadata.version")) return;
  features_requested_ = true;
  submit(
      [](const cluster::MetadataState& s) -> cluster::ControlResult {
        if (s.features().count("metadata.version")) return {};
        cluster::records::FeatureLevelRecord f;
        f.name = "metadata.version";
        f.feature_level = cluster::kMetadataVersion;
        cluster::ControlResult r;
        r.records.emplace_back(std::move(f));
        return r;
      },
      [this](WriteOutcome o) {
        if (!o.result.ok()) features_requested_ = false;  // the next round tries again
        else if (!o.result.records.empty())
          spdlog::info("event=features_finalized metadata.version={}", cluster::kMetadataVersion);
      });
}

// --- Dynamic quorum (KIP-853) ---

void ControllerQuorum::register_controllers() {
  // Once per term: this leader, and each controller known by address and not
  // registered yet (initial controllers), so every voter can reach the others.
  if (registered_term_ == log_.term() || in_flight_) return;
  registered_term_ = log_.term();
  std::vector<cluster::ControllerRegistration> want;
  const auto& have = log_.state().controllers();
  if (!opts_.self_endpoint.host.empty()) {
    cluster::ControllerRegistration me{opts_.me, opts_.directory_id, {opts_.self_endpoint}};
    if (auto it = have.find(opts_.me); it == have.end() || !(it->second == me)) want.push_back(me);
  }
  for (const auto& [id, a] : addresses_)
    if (!have.count(id) && log_.is_voter(id)) {
      auto dir = opts_.initial_directories.find(id);
      want.push_back({id, dir == opts_.initial_directories.end() ? cluster::TopicId{} : dir->second,
                      {{opts_.self_endpoint.name, a.host, a.port, opts_.self_endpoint.security_protocol}}});
    }
  if (want.empty()) return;
  submit(
      [want](const cluster::MetadataState&) -> cluster::ControlResult {
        cluster::ControlResult r;
        for (const auto& c : want) r.records.emplace_back(cluster::register_record(c));
        return r;
      },
      [this](WriteOutcome o) {
        if (!o.result.ok()) registered_term_ = -1;  // try again next tick
      });
}

void ControllerQuorum::finish_voter_change(int16_t error, std::string message) {
  auto c = std::move(*voter_change_);
  voter_change_.reset();
  if (c.probe) c.probe->stop();
  spdlog::log(error == 0 ? spdlog::level::info : spdlog::level::warn,
              "event=quorum_voter_change op={} node={} error={} message=\"{}\"", c.add ? "add" : "remove", c.id, error,
              message);
  c.done({error, std::move(message)});
}

void ControllerQuorum::add_voter(int32_t id, cluster::TopicId directory, std::vector<cluster::BrokerEndpoint> endpoints,
                                 int64_t timeout_ms, std::function<void(VoterChangeResult)> done) {
  run_on_quorum([this, id, directory, endpoints = std::move(endpoints), timeout_ms, done = std::move(done)]() mutable {
    auto refuse = [&](proto::ErrorCode e, std::string why) { done({static_cast<int16_t>(e), std::move(why)}); };
    if (stopped_ || !log_.is_leader())
      return refuse(proto::ErrorCode::kNotController, "this node is not the active controller");
    if (!opts_.dynamic)
      return refuse(proto::ErrorCode::kUnsupportedVersion,
                    "the quorum is static (controller.quorum.voters): its voters cannot change; use "
                    "controller.quorum.bootstrap.servers for a dynamic quorum");
    if (id < 0) return refuse(proto::ErrorCode::kInvalidRequest, "voter id " + std::to_string(id) + " is negative");
    if (endpoints.empty())
      return refuse(proto::ErrorCode::kInvalidRequest, "voter " + std::to_string(id) + " names no listener");
    if (log_.is_voter(id)) return refuse(proto::ErrorCode::kDuplicateVoter, "node " + std::to_string(id) + " is already a voter");
    if (voter_change_ || !log_.config_settled())
      return refuse(proto::ErrorCode::kRequestTimedOut, "another voter change is in progress; retry once it is done");
    VoterChange c;
    c.add = true;
    c.id = id;
    c.directory = directory;
    c.endpoints = std::move(endpoints);
    c.deadline_ms = now_ms() + std::max<int64_t>(timeout_ms, 1000);
    c.catch_up_to = log_.applied_offset() + 1;
    c.done = std::move(done);
    voter_change_ = std::move(c);
    spdlog::info("event=quorum_voter_change_requested op=add node={} catch_up_to={}", id, voter_change_->catch_up_to);
    voter_change_duty();
  });
}

void ControllerQuorum::remove_voter(int32_t id, cluster::TopicId directory, std::function<void(VoterChangeResult)> done) {
  run_on_quorum([this, id, directory, done = std::move(done)]() mutable {
    auto refuse = [&](proto::ErrorCode e, std::string why) { done({static_cast<int16_t>(e), std::move(why)}); };
    if (stopped_ || !log_.is_leader())
      return refuse(proto::ErrorCode::kNotController, "this node is not the active controller");
    if (!opts_.dynamic)
      return refuse(proto::ErrorCode::kUnsupportedVersion,
                    "the quorum is static (controller.quorum.voters): its voters cannot change");
    if (!log_.is_voter(id)) return refuse(proto::ErrorCode::kVoterNotFound, "node " + std::to_string(id) + " is not a voter");
    const auto& regs = log_.state().controllers();
    if (auto it = regs.find(id); it != regs.end() && it->second.directory_id != cluster::TopicId{} &&
                                 it->second.directory_id != directory)
      return refuse(proto::ErrorCode::kVoterNotFound,
                    "voter " + std::to_string(id) + " has another directory id than the one given");
    if (voter_change_ || !log_.config_settled())
      return refuse(proto::ErrorCode::kRequestTimedOut, "another voter change is in progress; retry once it is done");
    if (auto st = log_.remove_voter(id); !st.ok()) return refuse(proto::ErrorCode::kInvalidRequest, st.to_string());
    VoterChange c;
    c.add = false;
    c.id = id;
    c.directory = directory;
    c.phase = 2;
    c.deadline_ms = now_ms() + 30000;
    c.done = std::move(done);
    voter_change_ = std::move(c);
    drive();
    voter_change_duty();
  });
}

void ControllerQuorum::probe_voter() {
  auto& c = *voter_change_;
  if (c.probe_answer == c.id || c.probe_in_flight) return;
  const auto& ep = c.endpoints.front();
  if (!c.probe) {
    c.probe = std::make_shared<PeerLink>(io_, opts_.me, c.id, ep.host, ep.port);
    c.probe->start();
  }
  c.probe_in_flight = true;
  // An empty poll: any controller listener answers it at once with its node id.
  c.probe->request(raft::rpc::RaftBatchRequest::kApiKey, raft::rpc::kBatchVersion,
                   raft::rpc::encode_batch(raft::NodeId(opts_.me), raft::kNoNode, {}, /*poll=*/true),
                   [this, id = c.id](std::optional<std::vector<uint8_t>> body) {
                     if (!voter_change_ || voter_change_->id != id) return;
                     voter_change_->probe_in_flight = false;
                     auto resp = body ? decode_body<raft::rpc::RaftBatchResponse>(*body, raft::rpc::kBatchVersion)
                                      : std::nullopt;
                     if (resp && resp->node_id >= 0) voter_change_->probe_answer = resp->node_id;
                   });
}

void ControllerQuorum::voter_change_duty() {
  if (!voter_change_ || stopped_) return;
  auto& c = *voter_change_;
  if (c.phase == 2) {
    // Done once the new configuration is committed (a leader that removed
    // itself has stepped down by then: its log still says so).
    if (log_.config_settled() && log_.is_voter(c.id) == c.add) return finish_voter_change(0, "");
    if (!log_.is_leader())
      return finish_voter_change(kNotController,
                                 "leadership moved before the change was known to commit; describe the quorum to see "
                                 "whether it happened");
    if (now_ms() > c.deadline_ms)
      return finish_voter_change(static_cast<int16_t>(proto::ErrorCode::kRequestTimedOut),
                                 "the new configuration did not commit in time");
    return;
  }
  if (!log_.is_leader()) return finish_voter_change(kNotController, "this node is no longer the active controller");
  if (c.phase == 1) return;  // the registration is being written
  // Phase 0: wait until the new voter answers at its endpoint, follows the
  // log and has caught up.
  const auto& ep = c.endpoints.front();
  if (c.probe_answer >= 0 && c.probe_answer != c.id)
    return finish_voter_change(static_cast<int16_t>(proto::ErrorCode::kInvalidRequest),
                               "the controller listener at " + ep.host + ":" + std::to_string(ep.port) + " is node " +
                                   std::to_string(c.probe_answer) + "'s, not node " + std::to_string(c.id) + "'s");
  probe_voter();
  const int64_t end = log_.follows(c.id) ? log_.log_end_of(c.id) : -1;
  if (end >= c.catch_up_to && c.probe_answer == c.id) {
    c.phase = 1;
    cluster::ControllerRegistration reg{c.id, c.directory, c.endpoints};
    submit([reg](const cluster::MetadataState&) -> cluster::ControlResult {
             return {0, "", {cluster::register_record(reg)}};
           },
           [this](WriteOutcome o) {
             if (!voter_change_ || voter_change_->phase != 1) return;
             if (!o.result.ok()) return finish_voter_change(o.result.error, o.result.message);
             // The voter's address is applied here now: the leader can send to it.
             if (auto st = log_.add_voter(voter_change_->id); !st.ok())
               return finish_voter_change(static_cast<int16_t>(proto::ErrorCode::kRequestTimedOut), st.to_string());
             voter_change_->phase = 2;
             voter_change_->deadline_ms = std::max(voter_change_->deadline_ms, now_ms() + 10000);
             drive();
             voter_change_duty();
           });
    return;
  }
  if (now_ms() > c.deadline_ms)
    finish_voter_change(static_cast<int16_t>(proto::ErrorCode::kRequestTimedOut),
                        c.probe_answer != c.id
                            ? "controller " + std::to_string(c.id) + " does not answer at " + ep.host + ":" +
                                  std::to_string(ep.port) + " (its controller listener, as given)"
                        : log_.follows(c.id)
                            ? "controller " + std::to_string(c.id) + " has not caught up with the metadata log (at " +
                                  std::to_string(end) + " of " + std::to_string(c.catch_up_to) + ")"
                            : "controller " + std::to_string(c.id) +
                                  " is not following the metadata log: start it with controller.quorum.bootstrap.servers "
                                  "naming this quorum, its storage formatted with --no-initial-controllers");
}

}  // namespace millrace::broker

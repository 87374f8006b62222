// Consumer, fetcher: starting positions (committed offsets, auto.offset.reset via
// ListOffsets) and the fetch coroutine on the io thread, which keeps one Fetch in
// flight per leader and queues the responses for poll() (data path in consumer.h).
#include "client/consumer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "client/consumer_detail.h"
#include "client/fetch_response_view.h"
#include "client/list_offsets.h"

namespace millrace::client {

using consumer_detail::sleep_for;

asio::awaitable<Status> Consumer::init_positions() {
  std::vector<TopicPartition> missing;
  {
    std::lock_guard lock(mu_);
    for (auto& [tp, s] : parts_)
      if (s.fetch_pos < 0) missing.push_back(tp);
  }
  if (missing.empty()) co_return Error::none();
  std::map<TopicPartition, int64_t> found;
  if (!cfg_.group_id.empty()) {
    auto coord = co_await coordinator();
    if (!coord.ok()) co_return coord.error();
    proto::OffsetFetchRequest req;
    req.group_id = cfg_.group_id;
    req.topics.emplace();
    std::map<std::string, proto::OffsetFetchRequest::OffsetFetchRequestTopic> per;
    for (auto& tp : missing) {
      per[tp.topic].name = tp.topic;
      per[tp.topic].partition_indexes.push_back(tp.partition);
    }
    for (auto& [n, t] : per) req.topics->push_back(t);
    auto resp = co_await cluster_->call(*coord, req);
    if (!resp.ok()) co_return resp.error();
    for (auto& t : resp->topics)
      for (auto& p : t.partitions)
        if (p.error_code == 0 && p.committed_offset >= 0) found[{t.name, p.partition_index}] = p.committed_offset;
  }
  std::vector<TopicPartition> reset;
  for (auto& tp : missing)
    if (!found.count(tp)) reset.push_back(tp);
  if (!reset.empty()) {
    if (cfg_.auto_offset_reset == "none")
      co_return Error{errc::kOffsetOutOfRange, "no committed offset and auto.offset.reset=none"};
    auto r = co_await list_offsets(*cluster_, reset, cfg_.auto_offset_reset == "earliest" ? -2 : -1);
    if (!r.ok()) co_return r.error();
    for (auto& [tp, off] : *r) found[tp] = off;
  }
  {
    std::lock_guard lock(mu_);
    for (auto& [tp, off] : found) {
      auto it = parts_.find(tp);
      if (it == parts_.end() || it->second.fetch_pos >= 0) continue;
      it->second.fetch_pos = off;
      if (it->second.consumed_pos < 0) it->second.consumed_pos = off;
    }
  }
  fetch_wake_->cancel();
  co_return Error::none();
}

asio::awaitable<void> Consumer::fetch_loop() {
  while (!closing_) {
    std::map<int32_t, std::vector<TopicPartition>> by_leader;
    bool need_md = false;
    {
      std::lock_guard lock(mu_);
      for (auto& [tp, s] : parts_) {
        if (s.paused || s.fetch_pos < 0 || s.fetched.size() + s.in_poll >= kFetchesAhead) continue;
        auto l = cluster_->leader_for(tp.topic, tp.partition);
        if (!l) { need_md = true; continue; }
        by_leader[*l].push_back(tp);
      }
    }
    if (need_md) {
      std::vector<std::string> topics;
      for (auto& tp : assignment()) topics.push_back(tp.topic);
      (void)co_await cluster_->refresh_metadata(topics, false);
    }
    for (auto& [leader, tps] : by_leader) {
      if (fetching_.count(leader)) continue;
      fetching_.insert(leader);
      asio::co_spawn(cluster_->io(), fetch_from(leader, tps), asio::detached);
    }
    fetch_wake_->expires_after(std::chrono::milliseconds(need_md ? 100 : 1000));
    boost::system::error_code ec;
    co_await fetch_wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Consumer::fetch_from(int32_t leader, std::vector<TopicPartition> tps) {
  // A broker fills fetch.max.bytes in request order, so each Fetch starts one
  // partition further on (as Kafka's consumer moves fetched partitions to the back):
  // a partition late in the list is not starved while early ones keep data coming.
  if (tps.size() > 1) std::rotate(tps.begin(), tps.begin() + static_cast<std::ptrdiff_t>(fetch_round_++ % tps.size()), tps.end());
  proto::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = cfg_.fetch_max_wait_ms;
  req.min_bytes = cfg_.fetch_min_bytes;
  req.max_bytes = cfg_.fetch_max_bytes;
  req.isolation_level = 0;
  req.session_id = 0;
  req.session_epoch = -1;
  struct Asked {
    uint64_t epoch;
    int64_t offset;
  };
  std::map<TopicPartition, Asked> asked;
  {
    std::lock_guard lock(mu_);
    std::map<std::string, size_t> idx;
    for (auto& tp : tps) {
      auto it = parts_.find(tp);
      if (it == parts_.end()) continue;
      asked[tp] = {it->second.epoch, it->second.fetch_pos};
      auto ti = idx.find(tp.topic);
      if (ti == idx.end()) {
        ti = idx.emplace(tp.topic, req.topics.size()).first;
        req.topics.emplace_back();
        req.topics.back().topic = tp.topic;
      }
      proto::FetchRequest::FetchTopic::FetchPartition p;
      p.partition = tp.partition;
      p.fetch_offset = it->second.fetch_pos;
      p.partition_max_bytes = cfg_.max_partition_fetch_bytes;
      p.current_leader_epoch = -1;
      p.log_start_offset = -1;
      req.topics[ti->second].partitions.push_back(p);
    }
  }
  // Sent on the raw connection so the response buffer is kept as it arrived (see
  // the data path in consumer.h); Cluster::call would decode it into copies.
  using Traits = ApiTraits<proto::FetchRequest>;
  Result<ResponseFrame> frame = Error::network("no connection");
  int16_t version = -1;
  auto conn = co_await cluster_->connection(leader);
  if (conn.ok()) {
    auto c = *conn;
    version = c->version_for(proto::FetchRequest::kApiKey, Traits::kMin, Traits::kMax);
    if (version < 0) {
      frame = Error{errc::kUnsupportedVersion, "Fetch versions 4-12 are not supported by " + c->address()};
    } else {
      wire::Writer w;
      req.encode(w, version);
      frame = co_await c->roundtrip_frame(proto::FetchRequest::kApiKey, version, std::move(w.buffer()),
                                          std::chrono::milliseconds(cfg_.fetch_max_wait_ms + 30000));
      if (!frame.ok() && !c->alive()) cluster_->drop(leader, c);
    }
  }
  fetching_.erase(leader);
  std::shared_ptr<const ResponseFrame> shared;
  std::optional<FetchResponseView> resp;
  if (frame.ok()) {
    shared = std::make_shared<const ResponseFrame>(std::move(*frame));
    resp = parse_fetch_response(shared->body(), version);
  }
  if (!resp || resp->error_code != 0) {
    co_await sleep_for(cluster_->io(), 100);
    (void)co_await cluster_->refresh_metadata({}, false);
    fetch_wake_->cancel();
    co_return;
  }
  bool got = false, refresh = false;
  std::vector<TopicPartition> out_of_range;
  {
    std::lock_guard lock(mu_);
    for (auto& t : resp->topics)
      for (auto& p : t.partitions) {
        TopicPartition tp{std::string(t.topic), p.partition};
        auto a = asked.find(tp);
        auto it = parts_.find(tp);
        if (a == asked.end() || it == parts_.end() || a->second.epoch != it->second.epoch) continue;   // reassigned or seeked
        auto& st = it->second;
        if (p.error_code == errc::kOffsetOutOfRange) { out_of_range.push_back(tp); continue; }
        if (p.error_code != 0) { refresh = true; continue; }
        FetchedRecords fr(shared, p.records, a->second.offset);
        if (fr.done()) continue;   // nothing new (or only a batch cut at the end)
        st.fetch_pos = fr.next_fetch_offset();
        st.fetched.push_back(std::move(fr));
        got = true;
      }
  }
  // Queue the next Fetch before anyone decodes this one.
  fetch_wake_->cancel();
  if (got) cv_.notify_all();
  if (!out_of_range.empty()) {
    if (cfg_.auto_offset_reset == "none") {
      std::lock_guard lock(mu_);
      fatal_ = Error{errc::kOffsetOutOfRange, "fetch position out of range and auto.offset.reset=none"};
      cv_.notify_all();
    } else {
      auto r = co_await list_offsets(*cluster_, out_of_range, cfg_.auto_offset_reset == "earliest" ? -2 : -1);
      if (r.ok()) for (auto& [tp, off] : *r) seek(tp, off);
    }
  }
  if (refresh) (void)co_await cluster_->refresh_metadata({}, false);
  fetch_wake_->cancel();
}


}  // namespace millrace::client

#include "client/producer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <iostream>

#include "protocol/record/batch_builder.h"

namespace millrace::client {

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
AccumulatorConfig acc_config(const ProducerConfig& c) {
  AccumulatorConfig a;
  a.batch_size = c.batch_size;
  a.linger_ms = c.linger_ms;
  a.buffer_memory = c.buffer_memory;
  a.max_block_ms = c.max_block_ms;
  a.delivery_timeout_ms = c.delivery_timeout_ms;
  a.retry_backoff_ms = c.retry_backoff_ms;
  a.max_in_flight_per_partition = c.max_in_flight;
  a.first_batch_alone = c.enable_idempotence;
  return a;
}
ProducerConfig normalise(ProducerConfig c) {
  if (c.acks != -1) c.enable_idempotence = false;
  if (c.enable_idempotence && c.max_in_flight > 5) c.max_in_flight = 5;
  if (c.max_in_flight < 1) c.max_in_flight = 1;
  return c;
}
}  // namespace

std::optional<CompressionType> parse_compression(std::string_view n) {
  if (n == "none") return CompressionType::kNone;
  if (n == "gzip") return CompressionType::kGzip;
  if (n == "snappy") return CompressionType::kSnappy;
  if (n == "lz4") return CompressionType::kLz4;
  if (n == "zstd") return CompressionType::kZstd;
  return std::nullopt;
}

Producer::Producer(ProducerConfig cfg)
    : cfg_(normalise(std::move(cfg))),
      partitioner_(cfg_.partitioner ? cfg_.partitioner : std::make_shared<DefaultPartitioner>()),
      acc_(acc_config(cfg_)),
      cluster_(std::make_unique<Cluster>(cfg_.client)) {
  wake_timer_ = std::make_unique<asio::steady_timer>(cluster_->io());
  sender_done_future_ = sender_done_.get_future().share();
  asio::co_spawn(cluster_->io(), sender_loop(), [this](std::exception_ptr) { sender_done_.set_value(); });
}

Producer::~Producer() { close(std::chrono::milliseconds(cfg_.delivery_timeout_ms)); }

void Producer::wake() {
  asio::post(cluster_->io(), [this] { wake_timer_->cancel(); });
}

Result<int32_t> Producer::partitions_for(const std::string& topic) {
  std::unique_lock lock(meta_mu_);
  auto it = partitions_.find(topic);
  if (it != partitions_.end()) return it->second;
  wanted_topics_.insert(topic);
  ++waiting_[topic];
  need_metadata_ = true;
  metadata_refused_.reset();   // the request this wakes answers anew
  lock.unlock();
  wake();
  lock.lock();
  bool got = meta_cv_.wait_for(lock, std::chrono::milliseconds(cfg_.max_block_ms), [&] {
    return partitions_.count(topic) > 0 || stopped_.load() || metadata_refused_.has_value();
  });
  if (--waiting_[topic] == 0) waiting_.erase(topic);
  if (stopped_) return Error::closed("producer closed while waiting for metadata of '" + topic + "'");
  if (metadata_refused_ && !partitions_.count(topic)) return *metadata_refused_;
  if (!got || !partitions_.count(topic))
    return Error{errc::kUnknownTopicOrPartition,
                 "topic '" + topic + "' not present in metadata after " + std::to_string(cfg_.max_block_ms) +
                     " ms (create it first, or check the bootstrap servers)"};
  return partitions_[topic];
}

Status Producer::send(ProducerRecord r, DeliveryCallback cb) {
  if (closing_) return Error::closed("producer is closed");
  auto n = partitions_for(r.topic);
  if (!n.ok()) return n.error();
  if (r.partition && (*r.partition < 0 || *r.partition >= *n))
    return Error{errc::kUnknownTopicOrPartition, "partition " + std::to_string(*r.partition) + " of '" + r.topic +
                 "' does not exist (the topic has " + std::to_string(*n) + ")"};
  PendingRecord rec{std::move(r.key), std::move(r.value), std::move(r.headers),
                    r.timestamp_ms >= 0 ? r.timestamp_ms : wall_ms(), std::move(cb)};
  if (estimate_record_size(rec) + kBatchOverhead > cfg_.max_request_size)
    return Error{errc::kMessageTooLarge, "record is larger than max.request.size (" +
                 std::to_string(cfg_.max_request_size) + " bytes)"};
  int64_t now = now_ms();
  int32_t part = r.partition ? *r.partition : partitioner_->partition(r.topic, rec.key, *n);
  TopicPartition tp{std::move(r.topic), part};   // no copy of the topic per record
  RecordAccumulator::AppendResult res;
  if (acc_.try_append(tp, rec, now, &res) == RecordAccumulator::AppendOutcome::kAppended) {
    if (res.batch_full) wake();
    return Error::none();
  }
  // A new batch would start here: a sticky partitioner moves on first (KIP-480).
  if (!r.partition && !rec.key) {
    partitioner_->on_new_batch(tp.topic, part, *n);
    tp.partition = partitioner_->partition(tp.topic, rec.key, *n);
  }
  auto appended = acc_.append(tp, std::move(rec), now);
  if (!appended.ok()) return appended.error();
  wake();
  return Error::none();
}

std::future<Result<RecordMetadata>> Producer::send(ProducerRecord record, std::nullptr_t) {
  auto p = std::make_shared<std::promise<Result<RecordMetadata>>>();
  auto fut = p->get_future();
  Status s = send(std::move(record), [p](const RecordMetadata& md, const Error& e) {
    if (e.ok()) p->set_value(md);
    else p->set_value(e);
  });
  if (!s.ok()) p->set_value(s);
  return fut;
}

Status Producer::flush(std::chrono::milliseconds timeout) {
  if (closing_) return Error::closed("producer is closed");
  if (cluster_->on_io_thread())
    return Error::invalid("flush() called from a delivery callback (it would wait for itself)");
  auto token = acc_.begin_flush();
  wake();
  if (acc_.await_flush(token, timeout)) return Error::none();
  if (std::getenv("MILLRACE_CLIENT_DEBUG")) std::cerr << "flush timed out\n" << acc_.debug_state();
  return Error::timeout(std::to_string(acc_.pending_for(token)) + " batches still pending after " +
                        std::to_string(timeout.count()) + " ms");
}

void Producer::stop_sender() {
  acc_.close();          // wakes send() calls blocked on buffer memory
  stopped_ = true;
  meta_cv_.notify_all();  // wakes send() calls waiting for metadata
  wake();
}

Status Producer::close(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + timeout;
  bool first = !closing_.exchange(true);
  if (cluster_->on_io_thread()) {
    // From a delivery callback: the io thread cannot wait for itself (Kafka's close(0)).
    // The sender fails what is queued; the owner's close() or destructor joins.
    stop_sender();
    return Error::none();
  }
  Status flushed;
  if (first) {
    auto token = acc_.begin_flush();
    wake();
    if (!acc_.await_flush(token, timeout))
      flushed = Error::timeout("close: records still pending after " + std::to_string(timeout.count()) + " ms");
  }
  stop_sender();
  // The sender fails queued batches and exits once its in-flight requests answer;
  // past the deadline the io thread is stopped regardless.
  while (!cluster_->closed() && Clock::now() < deadline &&
         sender_done_future_.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) {
  }
  cluster_->shutdown();
  // The io thread is joined: batches it left behind (queued, or in flight when it
  // stopped) are failed here, so every callback still runs exactly once.
  Error gone = Error::closed("producer closed before the record was delivered");
  for (auto& b : acc_.abort_all()) fail_batch(b, gone);
  for (auto& b : acc_.take_in_flight()) {
    b->complete(-1, -1, gone);
    acc_.complete(b);
  }
  return flushed;
}

Status Producer::drop_connections() {
  return cluster_->run([this]() -> asio::awaitable<Status> {
    for (auto& [id, b] : cluster_->metadata().brokers) {
      auto c = co_await cluster_->connection(id);
      if (c.ok()) (*c)->close();
    }
    co_return Error::none();
  }());
}

asio::awaitable<void> Producer::refresh_metadata() {
  std::vector<std::string> topics;
  {
    std::lock_guard lock(meta_mu_);
    topics.assign(wanted_topics_.begin(), wanted_topics_.end());
  }
  need_metadata_ = false;
  if (topics.empty()) co_return;
  auto md = co_await cluster_->refresh_metadata(topics, false);
  if (!md.ok()) {
    need_metadata_ = true;
    if (is_authentication_error(md.error().code)) {
      std::lock_guard lock(meta_mu_);
      metadata_refused_ = md.error();
      meta_cv_.notify_all();
    }
    co_return;
  }
  {
    std::lock_guard lock(meta_mu_);
    for (auto& [name, t] : md->topics)
      if (t.error_code == 0 && !t.partitions.empty()) partitions_[name] = static_cast<int32_t>(t.partitions.size());
      else if (t.error_code != errc::kUnknownTopicOrPartition) need_metadata_ = true;   // leader elections etc.
    // A send() is waiting for a topic the brokers do not know yet (just created:
    // Kafka's brokers learn of it a moment after CreateTopics answers): ask again
    // after retry.backoff.ms until it appears or the sender gives up at max.block.ms.
    for (auto& [name, n] : waiting_)
      if (!partitions_.count(name)) need_metadata_ = true;
  }
  meta_cv_.notify_all();
}

asio::awaitable<void> Producer::ensure_producer_id() {
  if (!cfg_.enable_idempotence) co_return;
  bool bump = seq_.has_producer() && bump_required_;
  if (seq_.has_producer() && !bump) co_return;
  // KIP-360: the bump waits until every request in flight has answered, so each
  // batch is known to be written or to be retried before sequences start again.
  if (bump && inflight_requests_ > 0) co_return;
  proto::InitProducerIdRequest req;
  req.transactional_id.reset();
  req.transaction_timeout_ms = -1;
  // v3+ carry the current id and epoch: the broker bumps the epoch, or (Kafka and
  // Millrace for a producer without a transactional id) hands out a new id at epoch
  // 0. Either way every sequence restarts at 0 under an id/epoch the broker has
  // not seen a gap for.
  req.producer_id = bump ? seq_.producer_id() : -1;
  req.producer_epoch = bump ? seq_.epoch() : int16_t{-1};
  auto resp = co_await cluster_->call(kAnyNode, req);
  if (!resp.ok() || resp->error_code != 0) co_return;   // asked again next round
  seq_.set_producer(resp->producer_id, resp->producer_epoch);
  if (bump) {
    acc_.reset_sequences();
    bump_required_ = false;
    ++epoch_bumps_;
  }
}

asio::awaitable<void> Producer::sender_loop() {
  using namespace std::chrono;
  int64_t last_meta = 0;
  while (true) {
    int64_t now = now_ms();
    if (stopped_ && inflight_requests_ == 0) break;
    if (need_metadata_ || now - last_meta > cfg_.client.metadata_max_age.count()) {
      last_meta = now;
      co_await refresh_metadata();
    }
    if (stopped_) {
      for (auto& b : acc_.abort_all()) fail_batch(b, Error::closed("producer closed before the record was sent"));
      if (inflight_requests_ == 0) break;
    }
    // Refused for good (a wrong password, an untrusted certificate): what waits for
    // a connection fails now with the broker's answer, as Java's Sender does.
    if (const auto& refused = cluster_->authentication_error())
      for (auto& b : acc_.abort_all()) fail_batch(b, *refused);
    co_await ensure_producer_id();   // also the KIP-360 epoch bump
    for (auto& b : acc_.expire(now))
      fail_batch(b, Error::timeout("record expired: not delivered within delivery.timeout.ms (" +
                                   std::to_string(cfg_.delivery_timeout_ms) + " ms)"));
    int64_t sleep_ms = 100;
    // While an epoch bump is due nothing new is drained: new batches would take
    // sequences of the old epoch after the gap.
    if (!cfg_.enable_idempotence || (seq_.has_producer() && !bump_required_)) {
      auto ready = acc_.ready(now);
      sleep_ms = std::min<int64_t>(ready.next_check_ms, 100);
      std::map<int32_t, std::vector<TopicPartition>> by_leader;
      for (auto& tp : ready.ready) {
        auto l = cluster_->leader_for(tp.topic, tp.partition);
        if (!l) { need_metadata_ = true; continue; }
        by_leader[*l].push_back(tp);
      }
      for (auto& [leader, tps] : by_leader) {
        // Drain only for a leader we are connected to: the request then reaches the
        // connection's write queue before this loop runs again, so the batches of
        // a partition go out in the order their sequences are assigned. (Waiting
        // for a connection after draining let several requests race for it and
        // put sequence 568 on the wire before 0.)
        // A failed connect may mean the leader moved: look again.
        auto conn = cluster_->ready_connection(leader, [this](bool connected) {
          if (!connected) need_metadata_ = true;
          wake_timer_->cancel();
        });
        if (!conn) continue;
        auto batches = acc_.drain(tps, now, cfg_.max_request_size);
        if (batches.empty()) continue;
        ++inflight_requests_;
        asio::co_spawn(cluster_->io(), send_batches(leader, std::move(conn), std::move(batches)), asio::detached);
      }
    } else {
      sleep_ms = cfg_.retry_backoff_ms;
    }
    if (need_metadata_) sleep_ms = std::min<int64_t>(sleep_ms, cfg_.retry_backoff_ms);
    wake_timer_->expires_after(milliseconds(std::max<int64_t>(sleep_ms, 0)));
    boost::system::error_code ec;
    if (sleep_ms > 0) co_await wake_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    else co_await asio::post(cluster_->io(), asio::use_awaitable);
  }
}

void Producer::fail_batch(const BatchPtr& b, const Error& e) {
  // A batch that held a sequence and will never be written leaves a gap: every later
  // batch of its partition would get OUT_OF_ORDER_SEQUENCE. Bump the epoch (KIP-360,
  // Java's TransactionManager.handleFailedBatch) once the requests in flight drain.
  if (cfg_.enable_idempotence && b->has_sequence() && seq_.is_current(*b)) bump_required_ = true;
  b->complete(-1, -1, e);
  acc_.complete(b);
}

void Producer::handle_batch_error(const BatchPtr& b, const Error& e, int64_t now) {
  bool retriable = is_retriable(e.code);
  if (cfg_.enable_idempotence && b->has_sequence() &&
      (e.code == errc::kOutOfOrderSequence || e.code == errc::kUnknownProducerId)) {
    // As Java's TransactionManager.canRetry: the broker lost this producer's state,
    // or there is a real gap before this batch (it is the next one after the last
    // acknowledged): bump the epoch, and the batch is retried under the new one with
    // a new sequence. Otherwise an earlier batch is being retried: retry after it.
    if (seq_.is_current(*b) && (e.code == errc::kUnknownProducerId || seq_.is_next(*b))) bump_required_ = true;
    retriable = true;
  }
  if (retriable && b->attempts <= cfg_.retries && now - b->created_ms < cfg_.delivery_timeout_ms) {
    ++retried_;
    if (e.code == errc::kNotLeaderOrFollower || e.code == errc::kLeaderNotAvailable ||
        e.code == errc::kUnknownTopicOrPartition || e.code == errc::kNetworkException || e.code == errc::kFencedLeaderEpoch)
      need_metadata_ = true;
    acc_.reenqueue(b, now);
    return;
  }
  fail_batch(b, e);
}

asio::awaitable<void> Producer::send_batches(int32_t leader, std::shared_ptr<Connection> c,
                                            std::vector<BatchPtr> batches) {
  auto done = [this] { --inflight_requests_; wake_timer_->cancel(); };
  // Encode once; retries resend the same bytes with the same sequence.
  for (auto& b : batches) {
    ++b->attempts;
    if (!b->encoded.empty()) continue;
    record::BatchOptions opt;
    if (cfg_.enable_idempotence) {
      seq_.assign(*b);
      opt.producer_id = b->producer_id;
      opt.producer_epoch = b->producer_epoch;
      opt.base_sequence = b->base_sequence;
    }
    opt.compression = static_cast<record::Compression>(cfg_.compression);
    record::BatchBuilder builder(opt);
    std::vector<record::Header> hs;
    for (auto& r : b->records) {
      hs.clear();
      for (auto& h : r.headers)
        hs.push_back({h.key, h.value ? std::optional<record::Bytes>(record::as_bytes(*h.value)) : std::nullopt});
      builder.append(r.timestamp_ms, r.key ? std::optional<record::Bytes>(record::as_bytes(*r.key)) : std::nullopt,
                     r.value ? std::optional<record::Bytes>(record::as_bytes(*r.value)) : std::nullopt, hs);
    }
    b->encoded.reserve(b->size_bytes);
    auto st = builder.finish(b->encoded);
    if (!st.ok() || (fail_next_encodes_ > 0 && fail_next_encodes_-- > 0)) b->encoded.clear();
  }
  int64_t now = now_ms();
  int16_t v = c->version_for(proto::ProduceRequest::kApiKey, 3, 9);
  if (v < 0) {
    for (auto& b : batches) fail_batch(b, Error{errc::kUnsupportedVersion, c->address() + " supports no Produce v3-9"});
    done();
    co_return;
  }
  proto::ProduceRequest req;
  req.transactional_id.reset();
  req.acks = cfg_.acks;
  req.timeout_ms = static_cast<int32_t>(cfg_.client.request_timeout.count());
  std::map<std::string, size_t> topic_index;
  std::map<TopicPartition, BatchPtr> by_tp;
  size_t request_bytes = 0;
  for (auto& b : batches) {
    if (b->encoded.empty()) { fail_batch(b, Error{errc::kCorruptMessage, "record batch could not be encoded"}); continue; }
    auto it = topic_index.find(b->tp.topic);
    if (it == topic_index.end()) {
      it = topic_index.emplace(b->tp.topic, req.topic_data.size()).first;
      req.topic_data.emplace_back();
      req.topic_data.back().name = b->tp.topic;
    }
    proto::ProduceRequest::TopicProduceData::PartitionProduceData pd;
    pd.index = b->tp.partition;
    pd.records.is_null = false;
    pd.records.bytes = std::move(b->encoded);   // lent to the request, taken back below
    req.topic_data[it->second].partition_data.push_back(std::move(pd));
    by_tp[b->tp] = b;
    request_bytes += b->size_bytes;
  }
  wire::Writer w;
  w.buffer().reserve(request_bytes + 64 * (by_tp.size() + 1));
  req.encode(w, v);
  // Retries resend the same bytes: the batches keep them.
  for (auto& td : req.topic_data)
    for (auto& pd : td.partition_data) by_tp[{td.name, pd.index}]->encoded = std::move(pd.records.bytes);
  ++requests_;
  bool acks0 = cfg_.acks == 0;
  auto body = co_await c->roundtrip(proto::ProduceRequest::kApiKey, v, std::move(w.buffer()), !acks0,
                                    cfg_.client.request_timeout);
  now = now_ms();
  if (!body.ok()) {
    if (!c->alive()) cluster_->drop(leader, c);
    for (auto& [tp, b] : by_tp) handle_batch_error(b, body.error(), now);
    done();
    co_return;
  }
  if (acks0) {
    for (auto& [tp, b] : by_tp) { b->complete(-1, -1, Error::none()); acc_.complete(b); }
    done();
    co_return;
  }
  proto::ProduceResponse resp;
  wire::Reader r(*body);
  if (!resp.decode(r, v)) {
    for (auto& [tp, b] : by_tp) handle_batch_error(b, Error{errc::kCorruptMessage, "malformed Produce response"}, now);
    done();
    co_return;
  }
  for (auto& t : resp.responses)
    for (auto& p : t.partition_responses) {
      auto it = by_tp.find({t.name, p.index});
      if (it == by_tp.end()) continue;
      auto b = it->second;
      by_tp.erase(it);
      if (p.error_code == 0 || p.error_code == errc::kDuplicateSequence) {
        acc_.acknowledged(b->tp);
        if (cfg_.enable_idempotence) seq_.acknowledged(*b);
        b->complete(p.base_offset, p.log_append_time_ms, Error::none());
        acc_.complete(b);
      } else {
        std::string msg = p.error_message.value_or("");
        if (msg.empty()) msg = std::string("Produce to ") + t.name + "-" + std::to_string(p.index) + " failed on " + c->address();
        handle_batch_error(b, Error{p.error_code, msg}, now);
      }
    }
  for (auto& [tp, b] : by_tp) handle_batch_error(b, Error{errc::kNetworkException, "partition missing from Produce response"}, now);
  done();
}

}  // namespace millrace::client

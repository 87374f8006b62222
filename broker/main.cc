// millrace-broker: one Kafka-compatible broker.
//
//   millrace-broker --config FILE [--set key=value]... [--set-from-file key=PATH]... [--print-config-docs]
//
// Start-up order: config -> admin HTTP (/healthz answers during recovery)
// -> logs recovered -> topics -> __consumer_offsets replayed into the group
// coordinator -> Kafka listener -> ready (/readyz 200, "millrace-broker ready"
// on stdout). SIGTERM/SIGINT: not ready, stop accepting, let in-flight
// requests finish (shutdown.timeout.ms), then close every log (flush,
// checkpoints, clean-shutdown marker).
#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <strings.h>
#include <random>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

#include "broker/config/config.h"
#include "broker/config/node_roles.h"
#include "broker/kafka/broker_state.h"
#include "broker/controller/controller_dispatcher.h"
#include "broker/controller/controller_quorum.h"
#include "broker/controller/metadata_mirror.h"
#include "broker/controller/quorum_topic_writer.h"
#include "broker/groups/offsets_store.h"
#include "cluster/producers/producer_ids.h"
#include "broker/topics/topic_registry.h"
#include "broker/kafka/dispatcher.h"
#include "broker/metrics/broker_metrics.h"
#include "broker/metrics/scrape_providers.h"
#include "broker/server/admin_http.h"
#include "broker/config/listener_security.h"
#include "broker/kafka/authz.h"
#include "broker/server/server.h"
#include "cluster/controller/broker_control.h"
#include "cluster/controller/metadata_log.h"
#include "cluster/identity/node_identity.h"
#include "broker/controller/quorum_format.h"
#include "broker/replication/replication_dispatcher.h"
#include "broker/replication/replication_service.h"
#include "cluster/partition/image_leadership.h"
#include "cluster/topics/partition_manager_host.h"
#include "coordination/group_coordinator.h"
#include "protocol/generated/api_keys.h"
#include "storage/log_manager.h"

namespace asio = boost::asio;
using namespace millrace;
using namespace millrace::broker;

namespace {

constexpr const char* kVersion = "0.1.0";

storage::LogConfig default_log_config(const Config& c, std::string& error) {
  std::map<std::string, std::string> o = {
      {"retention.ms", c.string("log.retention.ms")},
      {"retention.bytes", c.string("log.retention.bytes")},
      {"segment.bytes", c.string("log.segment.bytes")},
      {"segment.ms", c.string("log.segment.ms")},
      {"cleanup.policy", c.string("log.cleanup.policy")},
      {"max.message.bytes", c.string("message.max.bytes")},
      {"flush.messages", c.string("log.flush.interval.messages")},
      {"flush.ms", c.string("log.flush.interval.ms")},
      {"compression.type", c.string("compression.type")},
      {"min.insync.replicas", c.string("min.insync.replicas")},
  };
  auto r = storage::LogConfig{}.with_overrides(o);
  if (!r.ok()) {
    error = r.status().to_string();
    return {};
  }
  return r.value();
}

int run(const Config& cfg) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l %v");
  spdlog::set_level(spdlog::level::from_str(cfg.string("log.level")));

  BrokerMetrics metrics(kVersion, [](int16_t key) -> std::string_view {
    auto name = proto::api_name(key);
    return name == "Unknown" ? std::string_view{} : name;
  });
  std::atomic<bool> ready{false};

  // The control context: admin HTTP, signals, coordinator ticks.
  asio::io_context control(1);
  auto work = asio::make_work_guard(control);
  std::thread control_thread([&] { control.run(); });
  auto stop_control = [&] {
    work.reset();
    control.stop();
    if (control_thread.joinable()) control_thread.join();
  };

  AdminHttp admin(control, metrics, ready);
  if (auto l = cfg.admin_listener()) {
    if (auto err = admin.listen(*l); !err.empty()) {
      spdlog::error("event=startup_failed error=\"{}\"", err);
      stop_control();
      return 1;
    }
    admin.start();
  }

  std::string error;
  // Set once the partition manager exists (it needs the log manager); flushes
  // cannot move a high watermark before the first produce.
  std::atomic<cluster::PartitionManager*> hw_listener{nullptr};
  storage::LogManagerOptions lo;
  for (const auto& d : cfg.list("log.dirs")) lo.log_dirs.emplace_back(d);
  lo.flush_threads = static_cast<int>(cfg.integer("log.flush.threads"));
  lo.cleaner_dedupe_buffer_bytes = cfg.integer("log.cleaner.dedupe.buffer.size");
  lo.producer_id_expiration_ms = cfg.integer("producer.id.expiration.ms");
  // With fsync before acks=all, consumers see only what is fsynced (the high
  // watermark is the flushed offset): a power loss can then never take back a
  // record a consumer has read and committed past. A flush that moves it wakes
  // the parked fetches.
  if (cfg.boolean("log.flush.on.acks.all")) {
    lo.hw_policy = storage::HwPolicy::kOnFlush;
    lo.on_hw_moved = [&hw_listener](const storage::TopicPartition& tp) {
      if (auto* p = hw_listener.load(std::memory_order_acquire)) p->notify_hw_moved(tp);
    };
  }
  // Fail-stop: the first failed write or fsync takes its log dir offline
  // (storage/log_dir_health.h); said once here, and by /readyz and
  // millrace_log_dir_offline{dir} for as long as it lasts.
  lo.on_log_dir_offline = [](const std::filesystem::path& dir, const storage::Status& why) {
    spdlog::error("event=log_dir_offline dir={} error=\"{}\"", dir.string(), why.to_string());
  };
  // Durable node identity (cluster/identity/node_identity.h): every log dir
  // names its cluster, its node and itself; a dir of another cluster or node,
  // or a damaged identity file, refuses the start before anything is loaded.
  // A dynamic quorum's controller starts only on a formatted directory (its
  // voters are its log's): checked before the identity would make it look used.
  if (parse_node_roles(cfg).roles.dynamic_quorum && !lo.log_dirs.empty() && !metadata_log_exists(lo.log_dirs.front())) {
    spdlog::error("event=startup_failed error=\"controller.quorum.bootstrap.servers: {} is not formatted; run "
                  "`millrace-broker --config <file> format` with --standalone (the first controller), "
                  "--initial-controllers id@host:port:directoryId,... or --no-initial-controllers (to join a "
                  "running quorum) before the first start\"",
                  lo.log_dirs.front().string());
    stop_control();
    return 1;
  }
  std::string first_directory_id;
  for (const auto& dir : lo.log_dirs) {
    auto id = cluster::ensure_identity(dir, cfg.string("cluster.id"), static_cast<int32_t>(cfg.integer("node.id")));
    if (first_directory_id.empty()) first_directory_id = id.identity.directory_id;
    if (!id.error.empty()) {
      spdlog::error("event=startup_failed error=\"{}\"", id.error);
      stop_control();
      return 1;
    }
    spdlog::info("event=node_identity dir={} cluster_id={} node_id={} directory_id={} origin={}", dir.string(),
                 id.identity.cluster_id, id.identity.node_id, id.identity.directory_id, cluster::origin_name(id.origin));
  }
  lo.default_config = default_log_config(cfg, error);
  if (!error.empty()) {
    spdlog::error("event=startup_failed error=\"log defaults: {}\"", error);
    stop_control();
    return 1;
  }
  auto opened = storage::LogManager::open(lo);
  if (!opened.ok()) {
    spdlog::error("event=startup_failed error=\"{}\"", opened.status().to_string());
    stop_control();
    return 1;
  }
  std::unique_ptr<storage::LogManager> logs = std::move(opened).value();
  admin.set_readiness_check([&logs]() {
    std::string why;
    for (const auto& d : logs->log_dir_status())
      if (d.offline) why += "log dir " + d.dir.string() + " offline: " + d.error.message() + "\n";
    return why;
  });

  auto first_dir = lo.log_dirs.front();
  const auto node_id = static_cast<int32_t>(cfg.integer("node.id"));
  // Handlers read one metadata image per request from here (the mirror publishes it).
  cluster::MetadataCache metadata;
  // A partition starts with the image's facts (no leader when the image does
  // not name it yet), never as this broker's alone: a log the topic table made
  // for a replicated topic is written only through its Raft group.
  cluster::PartitionManager partitions(
      *logs, node_id,
      {.sync_on_acks_all = cfg.boolean("log.flush.on.acks.all"),
       .initial_facts = [&metadata](const storage::TopicPartition& tp) {
         auto image = metadata.current();
         const auto* p = image ? image->partition(tp.topic, tp.partition) : nullptr;
         return p ? cluster::leadership_from(*p) : cluster::LeadershipFacts{};
       }});
  // The topic table's reconciler creates and removes partitions through the
  // manager (cluster/topics/partition_manager_host.h), off the io threads.
  cluster::PartitionManagerHost partition_host(partitions, *logs);
  TopicRegistry topics(partition_host, first_dir / "topics.json");
  if (auto err = topics.load(); !err.empty()) {
    spdlog::error("event=startup_failed error=\"{}\"", err);
    stop_control();
    return 1;
  }
  // A partition that failed to load, or that topics.json lists and no log dir
  // has, stays offline (KAFKA_STORAGE_ERROR to every request) and is never
  // re-created empty.
  for (const auto& e : logs->load_errors())
    spdlog::error("event=partition_load_failed dir={} error=\"{}\" state=offline", e.dir.string(),
                  e.status.to_string());
  // __consumer_offsets: offsets.topic.num.partitions (50), created by the
  // active controller in the metadata log (controller_quorum.h); an existing
  // topic keeps its count, so groups stay where they were.
  const auto offsets_partitions = topics.get(kOffsetsTopic)
                                      ? topics.get(kOffsetsTopic)->partitions
                                      : static_cast<int32_t>(cfg.integer("offsets.topic.num.partitions"));
  OffsetsLogStore offsets_store(partitions, offsets_partitions, control.get_executor());
  coordination::CoordinatorOptions co;
  co.initial_rebalance_delay_ms = static_cast<int32_t>(cfg.integer("group.initial.rebalance.delay.ms"));
  co.min_session_timeout_ms = static_cast<int32_t>(cfg.integer("group.min.session.timeout.ms"));
  co.max_session_timeout_ms = static_cast<int32_t>(cfg.integer("group.max.session.timeout.ms"));
  co.max_group_size = static_cast<int32_t>(cfg.integer("group.max.size"));
  co.offsets_retention_ms = cfg.integer("offsets.retention.minutes") * 60 * 1000;
  co.offsets_retention_check_interval_ms = cfg.integer("offsets.retention.check.interval.ms");
  co.offset_metadata_max_bytes = static_cast<int32_t>(cfg.integer("offset.metadata.max.bytes"));
  co.offsets_partitions = offsets_store.partition_count();
  coordination::GroupCoordinator groups(co, &offsets_store);
  // Partitions with replicas on other brokers wait for leadership (below).
  auto replicated_elsewhere = [](std::shared_ptr<const cluster::MetadataImage> image) -> std::function<bool(int32_t)> {
    return [image](int32_t p) {
      const auto* part = image ? image->partition(kOffsetsTopic, p) : nullptr;
      return !part || part->replicas.size() < 2;
    };
  };
  int64_t replayed = 0;
  if (auto err = offsets_store.load_into(groups, replayed, replicated_elsewhere(metadata.current())); !err.empty()) {
    spdlog::error("event=startup_failed error=\"replaying {}: {}\"", kOffsetsTopic, err);
    stop_control();
    return 1;
  }
  spdlog::info("event=offsets_loaded partitions={} records={}", offsets_store.partition_count(), replayed);

  cluster::ProducerIds producer_ids(first_dir / "producer_id.block");
  if (auto err = producer_ids.load(); !err.empty()) {
    spdlog::error("event=startup_failed error=\"{}\"", err);
    stop_control();
    return 1;
  }

  FetchSessionCache fetch_sessions({.max_slots = static_cast<size_t>(cfg.integer("max.incremental.fetch.session.cache.slots"))});
  hw_listener.store(&partitions, std::memory_order_release);
  struct Unhook {  // partitions goes before logs (whose destructor flushes)
    std::atomic<cluster::PartitionManager*>& to;
    ~Unhook() { to.store(nullptr, std::memory_order_release); }
  } unhook{hw_listener};
  BrokerState state{cfg, *logs, topics, groups, producer_ids, partitions, metrics, fetch_sessions, metadata};
  state.node_id = node_id;
  state.cluster_id = cfg.string("cluster.id");
  state.rack_aware_reads = cfg.string("replica.selector.class") == kRackAwareReplicaSelector;
  register_scrape_providers(state);

  KafkaDispatcher dispatcher(state);
  // Partitions with more than one replica are Raft groups among their
  // replicas (broker/replication/replication_service.h), reached on the Kafka
  // listener (inter-broker RaftBatch requests); placed from the metadata image.
  // Leadership goes back to each partition's preferred replica (its first).
  ReplicationService replication({.me = node_id,
                                  .auto_leader_rebalance = cfg.boolean("auto.leader.rebalance.enable"),
                                  .rebalance_interval_ms = cfg.integer("leader.imbalance.check.interval.seconds") * 1000,
                                  .lag_time_max_ms = cfg.integer("replica.lag.time.max.ms"),
                                  .learner_rate = cfg.integer("leader.replication.throttled.rate"),
                                  .follower_rate = cfg.integer("follower.replication.throttled.rate")},
                                 partitions);
  state.replication = &replication;
  Authz authz(cfg.string("authorizer.class.name"), cfg.string("super.users"),
              cfg.boolean("allow.everyone.if.no.acl.found"), &metrics);
  state.authz = &authz;
  ReplicationDispatcher kafka_listener(replication, dispatcher, node_id);
  ServerOptions so;
  int threads = static_cast<int>(cfg.integer("num.network.threads"));
  so.threads = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  so.max_request_bytes = static_cast<int32_t>(cfg.integer("socket.request.max.bytes"));
  so.idle_timeout = std::chrono::milliseconds(cfg.integer("connections.max.idle.ms"));
  so.request_timeout = std::chrono::milliseconds(cfg.integer("request.timeout.ms"));
  so.max_request_memory = cfg.integer("queued.max.request.bytes");
  so.max_connections = cfg.integer("max.connections");
  so.max_connections_per_ip = cfg.integer("max.connections.per.ip");
  so.max_connections_per_ip_overrides =
      parse_connection_overrides(cfg.string("max.connections.per.ip.overrides")).value_or(std::map<std::string, int64_t>{});
  so.blocking = [&logs](std::function<void()> job) { logs->post_blocking(std::move(job)); };
  Server server(so, kafka_listener, metrics);
  // process.roles: a controller-only node serves no Kafka clients (its only
  // listener is the controller's), registers no broker and mirrors nothing.
  auto node_roles = parse_node_roles(cfg).roles;
  // Every client listener with its security (listener_security.h): its TLS
  // context and SASL settings; each is registered with its advertised address,
  // and a client is answered with the endpoints of the listener it came in on.
  std::vector<cluster::BrokerEndpoint> client_endpoints;
  if (node_roles.broker) {
    auto listeners = cfg.listeners();
    const auto security = parse_listener_security(cfg);
    std::vector<std::shared_ptr<const ListenerRuntime>> runtimes;
    for (const auto& l : listeners) {
      auto rt = std::make_shared<ListenerRuntime>();
      rt->name = l.name;
      for (const auto& ls : security.listeners)
        if (ls.listener.name == l.name) {
          rt->protocol = ls.protocol;
          rt->sasl = ls.sasl;
          if (uses_tls(ls.protocol)) {
            auto made = TlsContext::create(l.name, ls.tls);
            if (auto* err = std::get_if<std::string>(&made)) {
              spdlog::error("event=startup_failed error=\"{}\"", *err);
              stop_control();
              return 1;
            }
            rt->tls = std::get<std::shared_ptr<TlsContext>>(made);
          }
        }
      runtimes.push_back(std::move(rt));
    }
    if (auto err = server.listen(listeners, runtimes); !err.empty()) {
      spdlog::error("event=startup_failed error=\"{}\"", err);
      stop_control();
      return 1;
    }
    auto ports = server.bound_ports();
    auto advertised = cfg.advertised_listeners();
    const bool announce_bound = cfg.string("advertised.listeners").empty();
    for (size_t i = 0; i < listeners.size(); ++i) {
      cluster::BrokerEndpoint e;
      e.name = listeners[i].name;
      e.host = listeners[i].host.empty() || listeners[i].host == "0.0.0.0" || listeners[i].host == "::"
                   ? "127.0.0.1" : listeners[i].host;
      e.port = ports[i];
      if (!announce_bound)
        for (const auto& a : advertised)
          if (strcasecmp(a.name.c_str(), e.name.c_str()) == 0) {
            e.host = a.host;
            e.port = a.port;
          }
      e.security_protocol = static_cast<int16_t>(runtimes[i]->protocol);
      client_endpoints.push_back(std::move(e));
    }
    state.advertised_host = client_endpoints[0].host;
    state.advertised_port = client_endpoints[0].port;
  }
  // The controller quorum (broker/controller/controller_quorum.h): the
  // metadata log over controller.quorum.voters (this node alone by default:
  // `make run` is a one-voter cluster on the same path; a broker-only node
  // follows the voters as an observer), its transport on the controller
  // listener, this broker's registration and heartbeats, and the mirror that
  // makes the topic table and the metadata image show the log.
  const bool sole_voter = node_roles.voters.size() == 1 && node_roles.voters.front().id == node_id;
  std::vector<int32_t> voter_ids;
  std::vector<QuorumPeer> peers;
  const std::string controller_listener =
      node_roles.controller_listener_names.empty() ? "CONTROLLER" : node_roles.controller_listener_names.front();
  for (const auto& v : node_roles.voters) {
    voter_ids.push_back(v.id);
    peers.push_back({v.id, v.host, v.port});
    state.quorum_voters.push_back({v.id, controller_listener, v.host, v.port});
  }
  // A dynamic quorum's initial controllers (format --initial-controllers):
  // reachable by address before their registrations are in the log.
  std::map<int32_t, cluster::TopicId> initial_directories;
  if (node_roles.dynamic_quorum)
    for (const auto& c : read_initial_controllers(first_dir)) {
      if (c.id != node_id) peers.push_back({c.id, c.host, c.port});
      if (auto d = cluster::decode_directory_id(c.directory_id)) initial_directories[c.id] = *d;
    }
  // A node may know the controllers only by address
  // (controller.quorum.bootstrap.servers): their ids are learnt from their answers.
  for (size_t i = 0; i < node_roles.bootstrap_servers.size(); ++i)
    peers.push_back({-2 - static_cast<int32_t>(i), node_roles.bootstrap_servers[i].host,
                     node_roles.bootstrap_servers[i].port});
  auto ml = cluster::MetadataLog::open(first_dir, {.me = node_id,
                                                  .voters = voter_ids,
                                                  .election_ticks = 10,
                                                  .snapshot_bytes = cfg.integer("metadata.log.max.record.bytes.between.snapshots"),
                                                  .observer = !node_roles.controller,
                                                  .dynamic = node_roles.dynamic_quorum});
  if (!ml.ok()) {
    spdlog::error("event=startup_failed error=\"metadata log: {}\"", ml.status().to_string());
    stop_control();
    return 1;
  }
  std::unique_ptr<cluster::MetadataLog> metadata_log = std::move(*ml);
  for (const auto& why : metadata_log->skipped_snapshots)
    spdlog::warn("event=metadata_snapshot_skipped reason=\"{}\"", why);
  if (metadata_log->snapshot_offset() >= 0)
    spdlog::info("event=metadata_snapshot_loaded offset={} replayed_to={}", metadata_log->snapshot_offset(),
                 metadata_log->applied_offset());
  if (metadata_log->repaired_from() >= 0)
    spdlog::error("event=metadata_log_repaired from_offset={} action=\"damaged batches cut; the leader sends them again\"",
                  metadata_log->repaired_from());
  // Topics of a node that ran before the metadata log held them (one voter
  // only): written to the log once, with their ids, partitions and configs.
  if (sole_voter && metadata_log->state().topics().empty()) {
    std::vector<cluster::records::AnyRecord> adopt;
    for (const auto& t : topics.all()) {
      auto recs = cluster::adopt_topic(t.name, t.id, t.partitions, node_id, t.configs);
      adopt.insert(adopt.end(), recs.begin(), recs.end());
    }
    if (!adopt.empty()) {
      if (auto w = metadata_log->write(adopt); !w.ok()) {
        spdlog::error("event=startup_failed error=\"adopting topics into the metadata log: {}\"", w.status().to_string());
        stop_control();
        return 1;
      }
      spdlog::info("event=topics_adopted_into_metadata_log topics={}", topics.all().size());
    }
  }
  // Producer ids already handed out from this node's block file stay behind
  // the cluster's next id (one voter: a node that ran before the quorum did).
  if (sole_voter && metadata_log->state().next_producer_id() < producer_ids.file_next()) {
    cluster::records::ProducerIdsRecord r;
    r.broker_id = node_id;
    r.next_producer_id = producer_ids.file_next();
    if (auto w = metadata_log->write({r}); !w.ok()) {
      spdlog::error("event=startup_failed error=\"producer ids into the metadata log: {}\"", w.status().to_string());
      stop_control();
      return 1;
    }
  }
  ControllerQuorumOptions qo;
  qo.me = node_id;
  qo.voters = peers;
  qo.heartbeat_ms = cfg.integer("broker.heartbeat.interval.ms");
  qo.session_ms = cfg.integer("broker.session.timeout.ms");
  qo.offsets_partitions = offsets_partitions;
  qo.offsets_replication = static_cast<int16_t>(cfg.integer("offsets.topic.replication.factor"));
  qo.broker = node_roles.broker;
  qo.self.id = node_id;
  {
    std::random_device rd;
    for (auto& byte : qo.self.incarnation) byte = static_cast<uint8_t>(rd());
  }
  qo.self.endpoints = client_endpoints;
  if (auto rack = cfg.string("broker.rack"); !rack.empty()) qo.self.rack = rack;
  qo.dynamic = node_roles.dynamic_quorum;
  qo.initial_directories = initial_directories;
  if (auto cl = cfg.controller_listener()) {
    // Where the other controllers reach this one (a wildcard bind is reached on loopback).
    std::string host = cl->host.empty() || cl->host == "0.0.0.0" || cl->host == "::" ? "127.0.0.1" : cl->host;
    for (const auto& a : cfg.advertised_listeners())
      if (strcasecmp(a.name.c_str(), cl->name.c_str()) == 0 && !a.host.empty()) host = a.host;
    qo.self_endpoint = {cl->name, host, cl->port, 0};
  }
  if (auto d = cluster::decode_directory_id(first_directory_id)) qo.directory_id = *d;
  ControllerQuorum quorum(*metadata_log, qo);
  MetadataMirror mirror(topics, metadata, partitions, state.cluster_id);
  QuorumTopicWriter topic_writer(quorum, mirror, topics, static_cast<int16_t>(cfg.integer("default.replication.factor")));
  // __consumer_offsets is created by the controller once the brokers are
  // registered: its groups are loaded here when it first appears.
  std::atomic<bool> offsets_present{topics.get(kOffsetsTopic).has_value()};
  mirror.set_after_sync([&] {
    replication.reconcile(metadata.current());
    if (offsets_present.load() || !topics.get(kOffsetsTopic)) return;
    offsets_present.store(true);
    int64_t n = 0;
    if (auto err = offsets_store.load_into(groups, n, replicated_elsewhere(metadata.current())); !err.empty())
      spdlog::error("event=offsets_load_failed error=\"{}\"", err);
    else
      spdlog::info("event=offsets_loaded partitions={} records={}", offsets_store.partition_count(), n);
  });
  // Every node mirrors, a controller-only one too: as active controller it
  // serves forwarded admin requests with the same handlers, which check the
  // topic table and answer once the mirror shows the write. (Until issue 18
  // places replicas it also keeps an empty log per partition, as every node does.)
  quorum.set_state_listener([&mirror](auto s, int64_t applied, int32_t leader) { mirror.publish(std::move(s), applied, leader); });
  state.quorum = &quorum;
  state.topic_writer = &topic_writer;
  state.when_applied = [&mirror](int64_t offset, std::function<void()> fn) { mirror.when_applied(offset, std::move(fn)); };
  state.quorum_status = [&quorum]() -> std::optional<cluster::QuorumStatus> { return quorum.status(); };
  // The controller listener: where the other voters and brokers reach this one.
  ControllerDispatcher controller_dispatcher(quorum, dispatcher, node_id);
  ServerOptions cso = so;
  cso.threads = 1;
  cso.blocking = so.blocking;
  Server controller_server(cso, controller_dispatcher, metrics);
  if (auto cl = cfg.controller_listener()) {
    if (auto err = controller_server.listen({*cl}); !err.empty()) {
      spdlog::error("event=startup_failed error=\"controller listener: {}\"", err);
      stop_control();
      return 1;
    }
    controller_server.start();
  }
  // Producer ids come in blocks from the controller (ProducerIdsRecord), so
  // two brokers never hand out the same one.
  producer_ids.set_block_source([&quorum, &cfg](int64_t count) {
    return quorum.allocate_producer_ids(count, std::chrono::milliseconds(cfg.integer("request.timeout.ms")));
  });
  // A partition leader's reports go to the active controller, which writes
  // them to the metadata log (PartitionLeaderRecord), so every broker's
  // Metadata names the Raft leader and its term.
  replication.set_leadership_sink([&quorum, node_id](std::vector<LeadershipChange> changes,
                                                     std::function<void(int16_t)> done) {
    cluster::LeadershipReport report;
    report.broker_id = node_id;
    report.broker_epoch = quorum.broker_epoch();
    if (report.broker_epoch < 0) return done(static_cast<int16_t>(proto::ErrorCode::kBrokerNotAvailable));
    for (auto& c : changes)
      report.partitions.push_back({c.topic_id, c.partition, c.leader, c.leader_epoch, std::move(c.isr),
                                   std::move(c.voters)});
    quorum.report_leadership(std::move(report), std::move(done));
  });
  // A replicated __consumer_offsets partition's groups are served by its
  // leader alone: loading (COORDINATOR_LOAD_IN_PROGRESS) from the moment it
  // leads, loaded from its log once everything in it is committed, unloaded
  // (NOT_COORDINATOR) when leadership goes. In order, on the control context.
  replication.set_leader_observer([&](const storage::TopicPartition& tp, Serving s) {
    if (tp.topic != kOffsetsTopic || tp.partition >= offsets_store.partition_count()) return;
    asio::post(control, [&groups, &offsets_store, p = tp.partition, s] {
      if (s == Serving::kNone) return groups.unload(p);
      if (s == Serving::kLoading) return groups.begin_load(p);
      int64_t n = 0;
      if (auto err = offsets_store.load_partition(groups, p, n); !err.empty())
        spdlog::error("event=offsets_load_failed partition={} error=\"{}\"", p, err);
      else
        spdlog::info("event=offsets_partition_loaded partition={} records={}", p, n);
    });
  });
  replication.start();
  quorum.start();
  // Ready once this broker is registered and unfenced, and its own topics are
  // mirrored (a quorum of other voters must be up for that).
  {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg.integer("initial.broker.registration.timeout.ms"));
    auto last_log = std::chrono::steady_clock::now();
    for (;;) {
      auto image = metadata.current();
      // A controller-only node is ready once the quorum has a leader. A broker
      // once this start's registration is unfenced and its image shows it
      // serving: the image replayed from this node's log holds the previous
      // start's entry (in controlled shutdown after a SIGTERM), so the image
      // alone would call a restarted broker ready before the controller knows it.
      const cluster::BrokerImage* self = image ? image->broker(node_id) : nullptr;
      bool unfenced = node_roles.broker ? quorum.unfenced() && self && !self->in_controlled_shutdown
                                        : quorum.leader() >= 0;
      bool offsets = !node_roles.broker || (image && image->topic(kOffsetsTopic) != nullptr);
      if (unfenced && offsets) break;
      if (std::chrono::steady_clock::now() > until) {
        spdlog::warn("event=startup_without_quorum unfenced={} offsets_topic={} leader={}", unfenced, offsets,
                     quorum.leader());
        break;
      }
      if (std::chrono::steady_clock::now() - last_log > std::chrono::seconds(5)) {
        spdlog::info("event=waiting_for_quorum leader={} unfenced={} offsets_topic={}", quorum.leader(), unfenced, offsets);
        last_log = std::chrono::steady_clock::now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  auto q = quorum.status();
  spdlog::info("event=metadata_quorum leader={} epoch={} high_watermark={} voters={}", q.leader_id, q.leader_epoch,
               q.high_watermark, q.voters.size());

  // Coordinator clock: completes rebalances and expires sessions.
  asio::co_spawn(control, [&groups]() -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
      t.expires_after(std::chrono::milliseconds(100));
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      groups.tick(storage::system_clock_ms());
    }
  }, asio::detached);

  std::promise<int> stop_signal;
  asio::signal_set signals(control, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (!ec) stop_signal.set_value(sig);
  });

  server.start();
  ready = true;
  metrics.set_ready(true);
  spdlog::info("event=ready kafka={}:{} admin_port={} threads={} partitions={}", state.advertised_host,
               state.advertised_port, admin.port(), so.threads, logs->partitions().size());
  std::printf("millrace-broker ready kafka=%s:%d admin=%u\n", state.advertised_host.c_str(), state.advertised_port,
              admin.port());
  std::fflush(stdout);

  int sig = stop_signal.get_future().get();
  spdlog::info("event=shutdown_started signal={}", sig);
  ready = false;
  metrics.set_ready(false);
  // Controlled shutdown: announced first (the image marks this broker, so no
  // one hands it leadership back), then the partitions it leads go to other
  // brokers' replicas, and the controller moves the rest (and the quorum's
  // leadership, if it holds it) before the listeners close.
  quorum.announce_shutdown();
  replication.transfer_leadership(cfg.integer("controlled.shutdown.timeout.ms"));
  quorum.shutdown(cfg.integer("controlled.shutdown.timeout.ms"));
  server.stop(std::chrono::milliseconds(cfg.integer("shutdown.timeout.ms")));
  server.join();
  controller_server.stop(std::chrono::milliseconds(100));
  controller_server.join();
  quorum.drain();  // requests that reached the quorum after it stopped are answered now
  mirror.stop();
  replication.stop();
  admin.stop();
  auto st = logs->shutdown();
  if (!st.ok()) spdlog::error("event=shutdown_flush_failed error=\"{}\"", st.to_string());
  stop_control();
  spdlog::info("event=shutdown_complete clean={}", st.ok());
  return st.ok() ? 0 : 1;
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  // A client that disconnects while we write (sendfile has no MSG_NOSIGNAL) must cost
  // that connection an EPIPE, not the whole broker a SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"millrace-broker: a Kafka-compatible broker"};
  std::string config_file;
  std::vector<std::string> sets;
  bool docs = false;
  app.add_option("--config", config_file, "YAML file of Kafka server.properties keys");
  std::vector<std::string> set_files;
  app.add_option("--set", sets, "key=value override (repeatable)")->take_all();
  app.add_option("--set-from-file", set_files,
                 "key=PATH: like --set with the file's text (trimmed) as the value (repeatable)")
      ->take_all();
  app.add_flag("--print-config-docs", docs, "print the config keys as a Markdown table and exit");
  // `format`: the first configuration of a dynamic controller quorum (KIP-853;
  // broker/controller/quorum_format.h), as `kafka-storage.sh format` does.
  FormatRequest format;
  auto* format_cmd = app.add_subcommand("format", "format a dynamic quorum controller's storage before its first start");
  format_cmd->add_flag("--standalone", format.standalone, "this controller alone: the first voter of a new quorum");
  format_cmd->add_option("--initial-controllers", format.initial_controllers,
                         "the first voters: id@host:port:directoryId,... (this node among them)");
  format_cmd->add_flag("--no-initial-controllers", format.no_initial_controllers,
                       "no voters: join a running quorum, then be added with AddRaftVoter");
  CLI11_PARSE(app, argc, argv);
  if (docs) {
    std::cout << config_docs_markdown();
    std::cout << "\nTopic configs accepted for Kafka compatibility that Millrace does not act on yet "
                 "(validated by Kafka's rules, stored and described):\n\n| topic config | default | description |\n"
                 "|---|---|---|\n";
    for (const auto& k : storage::LogConfig::unenforced_keys())
      std::cout << "| `" << k.name << "` | `" << k.default_value << "` | " << k.doc << " |\n";
    return 0;
  }
  std::string yaml;
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) {
      std::cerr << "millrace-broker: cannot read config file " << config_file << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    yaml = ss.str();
  }
  auto file_errors = resolve_set_files(set_files, read_text_file, sets);
  if (!file_errors.empty()) {
    for (const auto& e : file_errors) std::cerr << "millrace-broker: config error: " << e << "\n";
    return 2;
  }
  auto loaded = load_config(yaml, config_file, sets, [](const char* n) -> const char* { return ::getenv(n); });
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << "millrace-broker: config error: " << e << "\n";
    return 2;
  }
  // The node's roles and quorum, checked together (node_roles.h).
  auto roles = parse_node_roles(*loaded.config);
  if (!roles.ok()) {
    for (const auto& e : roles.errors) std::cerr << "millrace-broker: config error: " << e << "\n";
    return 2;
  }
  // Each listener's security protocol, TLS and SASL settings (listener_security.h).
  if (auto security = parse_listener_security(*loaded.config); !security.errors.empty()) {
    for (const auto& e : security.errors) std::cerr << "millrace-broker: config error: " << e << "\n";
    return 2;
  }
  if (format_cmd->parsed()) {
    if (auto e = format_storage(*loaded.config, format); !e.empty()) {
      std::cerr << "millrace-broker: " << e << "\n";
      return 1;
    }
    std::cout << "Formatted " << loaded.config->list("log.dirs").front() << " for node " << roles.roles.node_id
              << (format.standalone ? " (standalone: the first voter)"
                                    : format.no_initial_controllers ? " (no initial controllers: joins as an observer)"
                                                                    : " (initial controllers)")
              << "\n";
    return 0;
  }
  return run(*loaded.config);
}

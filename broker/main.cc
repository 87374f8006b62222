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
#include "broker/topics/metadata_publisher.h"
#include "broker/groups/offsets_store.h"
#include "cluster/producers/producer_ids.h"
#include "broker/topics/topic_registry.h"
#include "broker/kafka/dispatcher.h"
#include "broker/metrics/broker_metrics.h"
#include "broker/metrics/scrape_providers.h"
#include "broker/server/admin_http.h"
#include "broker/server/server.h"
#include "cluster/controller/broker_control.h"
#include "cluster/controller/metadata_log.h"
#include "cluster/identity/node_identity.h"
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
  for (const auto& dir : lo.log_dirs) {
    auto id = cluster::ensure_identity(dir, cfg.string("cluster.id"), static_cast<int32_t>(cfg.integer("node.id")));
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
  cluster::PartitionManager partitions(*logs, node_id, {.sync_on_acks_all = cfg.boolean("log.flush.on.acks.all")});
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
  // __consumer_offsets: offsets.topic.num.partitions (50) when created here;
  // an existing topic keeps its count, so groups stay where they were.
  if (!topics.get(kOffsetsTopic)) {
    std::string msg;
    auto count = static_cast<int32_t>(cfg.integer("offsets.topic.num.partitions"));
    if (topics.create(kOffsetsTopic, count, {{"cleanup.policy", "compact"}}, true, false, msg) != 0) {
      spdlog::error("event=startup_failed error=\"cannot create {}: {}\"", kOffsetsTopic, msg);
      stop_control();
      return 1;
    }
  }
  OffsetsLogStore offsets_store(partitions, topics.get(kOffsetsTopic)->partitions, control.get_executor());
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
  int64_t replayed = 0;
  if (auto err = offsets_store.load_into(groups, replayed); !err.empty()) {
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
  cluster::MetadataCache metadata;
  BrokerState state{cfg, *logs, topics, groups, producer_ids, partitions, metrics, fetch_sessions, metadata};
  state.node_id = node_id;
  state.cluster_id = cfg.string("cluster.id");
  register_scrape_providers(state);

  KafkaDispatcher dispatcher(state);
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
  Server server(so, dispatcher, metrics);
  auto listeners = cfg.listeners();
  if (auto err = server.listen(listeners); !err.empty()) {
    spdlog::error("event=startup_failed error=\"{}\"", err);
    stop_control();
    return 1;
  }
  auto ports = server.bound_ports();
  auto advertised = cfg.advertised_listeners();
  if (cfg.string("advertised.listeners").empty()) {
    state.advertised_host = listeners[0].host.empty() || listeners[0].host == "0.0.0.0" ? "127.0.0.1" : listeners[0].host;
    state.advertised_port = ports[0];
  } else {
    state.advertised_host = advertised[0].host;
    state.advertised_port = advertised[0].port;
  }
  // The controller quorum's metadata log (cluster/controller/metadata_log.h):
  // with the controller role this node is its only voter today; it registers
  // itself there and is unfenced once caught up (broker_control.h), and
  // DescribeQuorum answers from it. Topics still go through the topic table's
  // own log until the controller takes them over (issue 17).
  std::unique_ptr<cluster::MetadataLog> metadata_log;
  auto roles = cfg.list("process.roles");
  if (std::find(roles.begin(), roles.end(), "controller") != roles.end()) {
    auto ml = cluster::MetadataLog::open(first_dir, node_id);
    if (!ml.ok()) {
      spdlog::error("event=startup_failed error=\"metadata log: {}\"", ml.status().to_string());
      stop_control();
      return 1;
    }
    metadata_log = std::move(*ml);
    cluster::BrokerControl membership(9000);
    cluster::BrokerRegistrationRequest reg;
    reg.id = node_id;
    std::random_device rd;
    for (auto& byte : reg.incarnation) byte = static_cast<uint8_t>(rd());
    reg.endpoints.push_back({"PLAINTEXT", state.advertised_host, static_cast<uint16_t>(state.advertised_port), 0});
    if (auto rack = cfg.string("broker.rack"); !rack.empty()) reg.rack = rack;
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    auto registered = membership.register_broker(metadata_log->state(), reg, metadata_log->status().log_end_offset,
                                                 now_ms);
    std::string why = registered.ok() ? "" : registered.message;
    if (why.empty()) {
      if (auto w = metadata_log->write(registered.records); !w.ok()) why = w.status().to_string();
    }
    if (why.empty()) {
      auto epoch = metadata_log->state().brokers().at(node_id).epoch;
      auto beat = membership.heartbeat(metadata_log->state(), {node_id, epoch, metadata_log->applied_offset(), false},
                                       metadata_log->applied_offset(), now_ms);
      if (!beat.ok()) why = beat.message;
      else if (!beat.records.empty())
        if (auto w = metadata_log->write(beat.records); !w.ok()) why = w.status().to_string();
    }
    if (!why.empty()) {
      spdlog::error("event=startup_failed error=\"registering in the metadata log: {}\"", why);
      stop_control();
      return 1;
    }
    auto q = metadata_log->status();
    spdlog::info("event=metadata_quorum leader={} epoch={} high_watermark={} voters={}", q.leader_id, q.leader_epoch,
                 q.high_watermark, q.voters.size());
    state.quorum_status = [log = metadata_log.get()]() -> std::optional<cluster::QuorumStatus> { return log->status(); };
  }
  // The metadata image every handler reads (cluster/metadata/): published now,
  // before the first request, and again on every change of the topic table.
  LocalMetadataPublisher publisher(topics, metadata, partitions,
                                   {.node_id = state.node_id,
                                    .cluster_id = state.cluster_id,
                                    .host = state.advertised_host,
                                    .port = state.advertised_port,
                                    .rack = cfg.string("broker.rack")});
  publisher.publish();
  topics.set_on_change([&publisher] { publisher.publish(); });

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
  server.stop(std::chrono::milliseconds(cfg.integer("shutdown.timeout.ms")));
  server.join();
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
  return run(*loaded.config);
}

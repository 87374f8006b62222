// millrace-operator: watches Millrace, Topic, ConsumerGroupScaler and Rebalance objects and makes the cluster
// match them. See README.md.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <memory>

#include "operator/controller.h"
#include "operator/events.h"
#include "operator/fault_injection.h"
#include "operator/health_server.h"
#include "operator/informer.h"
#include "operator/kube_client.h"
#include "operator/kube_config.h"
#include "operator/leader_election.h"
#include "operator/millrace_reconciler.h"
#include "operator/operator_metrics.h"
#include "operator/readiness.h"
#ifdef MILLRACE_OPERATOR_TOPICS
#include "operator/rebalance_reconciler.h"
#include "operator/scaler_reconciler.h"
#include "operator/topic_reconciler.h"
#include "client/properties.h"
#endif

using namespace millrace::op;

int main(int argc, char** argv) {
  CLI::App app{"millrace-operator: runs Millrace clusters and topics on Kubernetes"};
  std::string kubeconfig = std::getenv("KUBECONFIG") ? std::getenv("KUBECONFIG") : "";
  std::string watch_ns, metrics_bind = "0.0.0.0:8080", lease_ns, identity;
  bool leader_elect = true;
  int workers = 2;
  std::string kafka_addressing = "service";
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: $KUBECONFIG, else in-cluster)");
  app.add_option("--namespace", watch_ns, "namespace to watch (default: all)");
  app.add_option("--metrics-bind-address", metrics_bind, "host:port of /metrics /healthz /readyz");
  app.add_option("--leader-elect", leader_elect, "elect a leader through a Lease before reconciling");
  app.add_option("--leader-election-namespace", lease_ns, "namespace of the Lease (default: the config's)");
  app.add_option("--identity", identity, "leader election identity (default: hostname_pid)");
  app.add_option("--workers", workers, "reconcile workers per kind")->check(CLI::Range(1, 16));
  app.add_option("--kafka-addressing", kafka_addressing,
                 "how to reach brokers: service (the bootstrap Service) or pod-ip (ready pods' IPs)")
      ->check(CLI::IsMember({"service", "pod-ip"}));
  std::string kafka_client_config;
  app.add_option("--kafka-client-config", kafka_client_config,
                 "Java client properties (security.protocol, ssl.*, sasl.*) for the operator's Kafka connections");
  CLI11_PARSE(app, argc, argv);

  ConfigResult cfg;
  if (!kubeconfig.empty()) {
    auto scratch = std::filesystem::temp_directory_path() / ("millrace-operator-" + std::to_string(getpid()));
    cfg = load_kubeconfig(kubeconfig, scratch.string());
  } else {
    // MILLRACE_SA_DIR: where the test cluster's harness (no container runtime) puts the pod's token.
    cfg = std::getenv("MILLRACE_SA_DIR") ? load_in_cluster(std::getenv("MILLRACE_SA_DIR")) : load_in_cluster();
  }
  if (!cfg.config) {
    spdlog::error("{}", cfg.error);
    return 2;
  }
  if (identity.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    identity = std::string(host) + "_" + std::to_string(getpid());
  }
  if (lease_ns.empty()) lease_ns = cfg.config->namespace_;

  // Block the signals we handle before any thread starts; a sigwait below takes them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  // Crash tests only (see fault_injection.h); inert when the variable is unset.
  auto fault = parse_fault_plan(std::getenv(kFaultEnv) ? std::getenv(kFaultEnv) : "");
  if (!fault.error.empty()) {
    spdlog::error("{}", fault.error);
    return 2;
  }
  FaultInjector faults(fault.plan);
  if (faults.armed())
    spdlog::warn("{} is set: the process will exit after write {} of a {} reconcile", kFaultEnv,
                 fault.plan.exit_after_writes, fault.plan.kind.empty() ? "any" : fault.plan.kind);

  OperatorMetrics metrics;
  KubeClient client(*cfg.config, [&](const std::string& verb, const std::string& resource) {
    metrics.api_write(verb, resource);
    faults.after_write(verb, resource);
  });
  EventRecorder events(client);

  std::unique_ptr<Controller> millrace_ctl;
  std::function<void(const std::string&, const std::string&)> on_cluster_change;
  auto enqueue_owner = [&](const json& obj) {
    const auto& md = obj["metadata"];
    auto inst = md.value("labels", json::object()).value(kInstanceLabel, "");
    if (!inst.empty() && millrace_ctl) millrace_ctl->enqueue(md.value("namespace", ""), inst);
    if (!inst.empty() && on_cluster_change) on_cluster_change(md.value("namespace", ""), inst);
  };
  std::string managed = std::string(kManagedByLabel) + "=millrace-operator";
  Informer millraces(client, res::kMillrace, watch_ns, "", [&](const json& obj) {
    if (millrace_ctl) millrace_ctl->enqueue(obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
  });
  Informer config_maps(client, res::kConfigMap, watch_ns, managed, enqueue_owner);
  Informer services(client, res::kService, watch_ns, managed, enqueue_owner);
  Informer stateful_sets(client, res::kStatefulSet, watch_ns, managed, enqueue_owner);
  Informer pdbs(client, res::kPdb, watch_ns, managed, enqueue_owner);
  Informer pods(client, res::kPod, watch_ns, std::string(kAppLabel) + "=millrace", enqueue_owner);
  std::vector<Informer*> informers = {&millraces, &config_maps, &services, &stateful_sets, &pdbs, &pods};
#ifdef MILLRACE_OPERATOR_TOPICS
  std::unique_ptr<Controller> topic_ctl;
  Informer topics(client, res::kTopic, watch_ns, "", [&](const json& obj) {
    if (topic_ctl) topic_ctl->enqueue(obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
  });
  informers.push_back(&topics);
  const KafkaAddressing addressing = kafka_addressing == "pod-ip" ? KafkaAddressing::kPodIp : KafkaAddressing::kService;
  KafkaClientSecurity kafka_security;
  if (!kafka_client_config.empty()) {
    namespace mc = millrace::client;
    auto props = mc::load_properties_file(kafka_client_config);
    auto security = props.ok() ? mc::parse_security_config(*props) : mc::Result<mc::SecurityConfig>(props.error());
    if (!security.ok()) {
      spdlog::error("--kafka-client-config: {}", security.error().to_string());
      return 2;
    }
    kafka_security.all = *security;
  }
  KafkaAccess kafka(pods, addressing, kafka_security);
  BrokerRates broker_rates(pods, addressing);  // the Rebalance planner's produce/fetch rates
  TopicReconciler topic_rec(client, topics, millraces, kafka, events);
  BrokerLoadFn broker_load = [&](const json& millrace, const std::string& pod, int32_t node_id) {
    return kafka.broker_load(millrace, pod, node_id);
  };
  LeaderCountsFn leader_counts = [&](const json& millrace) { return kafka.leader_counts(millrace); };
  RollFactsFn roll_facts = [&](const json& millrace) { return kafka.roll_facts(millrace); };
  ElectPreferredFn elect_preferred = [&](const json& millrace) { return kafka.elect_preferred(millrace); };
  topic_ctl = std::make_unique<Controller>(
      "Topic",
      [&](const std::string& ns, const std::string& name) {
        auto scope = faults.reconciling("Topic");
        return topic_rec.reconcile(ns, name);
      },
      metrics);
  // A cluster's brokers becoming ready (or not) changes what its Topics can do.
  auto enqueue_topics_of = [&](const std::string& ns, const std::string& cluster) {
    for (const auto& t : topics.list())
      if (t["metadata"].value("namespace", "") == ns &&
          t["spec"].value("clusterRef", json::object()).value("name", "") == cluster)
        topic_ctl->enqueue(ns, t["metadata"].value("name", ""));
  };
  // ConsumerGroupScalers, when their CRD is served (helm installs CRDs once and
  // never upgrades them: an older install must keep running without it).
  std::unique_ptr<Controller> scaler_ctl;
  std::unique_ptr<Informer> scalers;
  std::unique_ptr<ScalerReconciler> scaler_rec;
  auto served = [&](const Resource& kind) {
    if (auto d = client.get(kind.api); d.ok())
      for (const auto& r : d.body.value("resources", json::array()))
        if (r.value("name", "") == kind.plural) return true;
    return false;
  };
  if (served(res::kConsumerGroupScaler)) {
    scalers = std::make_unique<Informer>(client, res::kConsumerGroupScaler, watch_ns, "", [&](const json& obj) {
      if (scaler_ctl) scaler_ctl->enqueue(obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
    });
    informers.push_back(scalers.get());
    scaler_rec = std::make_unique<ScalerReconciler>(client, *scalers, millraces, kafka, events, metrics);
    scaler_ctl = std::make_unique<Controller>(
        "ConsumerGroupScaler",
        [&](const std::string& ns, const std::string& name) { return scaler_rec->reconcile(ns, name); }, metrics);
  } else {
    spdlog::warn("CRD consumergroupscalers.millrace.io is not installed: ConsumerGroupScalers are not reconciled "
                 "(apply charts/millrace/crds/ and restart the operator)");
  }
  // Rebalances, likewise only when their CRD is served.
  std::unique_ptr<Controller> rebalance_ctl;
  std::unique_ptr<Informer> rebalances;
  std::unique_ptr<RebalanceReconciler> rebalance_rec;
  if (served(res::kRebalance)) {
    rebalances = std::make_unique<Informer>(client, res::kRebalance, watch_ns, "", [&](const json& obj) {
      const auto ns = obj["metadata"].value("namespace", "");
      if (rebalance_ctl) rebalance_ctl->enqueue(ns, obj["metadata"].value("name", ""));
      // A Millrace's own (scale) Rebalance moving on changes its status (the
      // drain, the leaders): wake it.
      for (const auto& ref : obj["metadata"].value("ownerReferences", json::array()))
        if (ref.value("kind", "") == "Millrace" && millrace_ctl) millrace_ctl->enqueue(ns, ref.value("name", ""));
    });
    informers.push_back(rebalances.get());
    rebalance_rec = std::make_unique<RebalanceReconciler>(client, millraces, topics, kafka, broker_rates, events);
    rebalance_ctl = std::make_unique<Controller>(
        "Rebalance",
        [&](const std::string& ns, const std::string& name) {
          auto scope = faults.reconciling("Rebalance");
          return rebalance_rec->reconcile(ns, name);
        },
        metrics);
  } else {
    spdlog::warn("CRD rebalances.millrace.io is not installed: Rebalances are not reconciled "
                 "(apply charts/millrace/crds/ and restart the operator)");
  }
  // A cluster's brokers becoming ready (or not) changes what its Rebalances can do.
  auto enqueue_rebalances_of = [&](const std::string& ns, const std::string& cluster) {
    if (!rebalance_ctl) return;
    for (const auto& r : rebalances->list())
      if (r["metadata"].value("namespace", "") == ns && r["spec"].value("cluster", "") == cluster)
        rebalance_ctl->enqueue(ns, r["metadata"].value("name", ""));
  };
#else
  BrokerLoadFn broker_load;  // no Kafka client: scale-downs and rolling restarts wait
  LeaderCountsFn leader_counts;
  RollFactsFn roll_facts;
  ElectPreferredFn elect_preferred;
#endif

  MillraceReconciler millrace_rec(client, {millraces, config_maps, services, stateful_sets, pdbs, pods}, events,
                                  {broker_load, leader_counts, roll_facts, elect_preferred});
  millrace_ctl = std::make_unique<Controller>(
      "Millrace",
      [&](const std::string& ns, const std::string& name) {
        auto scope = faults.reconciling("Millrace");
        return millrace_rec.reconcile(ns, name);
      },
      metrics);

  auto synced = [&] {
    for (auto* i : informers)
      if (!i->synced()) return false;
    return true;
  };
  // Readiness is the process's health, not leadership (readiness.h): a thread asks
  // the API server for /version every 2 s, whether this replica leads or stands by.
  ApiReachability reach(std::chrono::seconds(15));
  std::atomic<bool> leading{!leader_elect};
  HealthServer health(metrics_bind, metrics, [&] {
    auto role = !leader_elect ? "leader election off" : leading.load() ? "leader" : "standby";
    return reach.verdict(ApiReachability::Clock::now(), role, synced());
  });
  if (auto err = health.start(); !err.empty()) {
    spdlog::error("{}", err);
    return 2;
  }
  std::thread([&] {
    for (;;) {
      auto r = client.get("/version");
      if (r.status != 0)
        reach.answered(ApiReachability::Clock::now());
      else
        reach.failed(ApiReachability::Clock::now(), r.error);
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }).detach();  // runs until the process ends (std::_Exit below)

  std::atomic<bool> started{false};
  auto begin_reconciling = [&] {
    if (started.exchange(true)) return;
#ifdef MILLRACE_OPERATOR_TOPICS
    on_cluster_change = [&](const std::string& ns, const std::string& cluster) {  // before any informer runs
      enqueue_topics_of(ns, cluster);
      enqueue_rebalances_of(ns, cluster);
    };
#endif
    for (auto* i : informers) i->start();
    while (!synced()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    spdlog::info("caches synced; reconciling with {} workers", workers);
    millrace_ctl->start(workers);
#ifdef MILLRACE_OPERATOR_TOPICS
    topic_ctl->start(workers);
    for (const auto& t : topics.list())
      topic_ctl->enqueue(t["metadata"].value("namespace", ""), t["metadata"].value("name", ""));
    if (scaler_ctl) {
      scaler_ctl->start(workers);
      for (const auto& s : scalers->list())
        scaler_ctl->enqueue(s["metadata"].value("namespace", ""), s["metadata"].value("name", ""));
    }
    if (rebalance_ctl) {
      rebalance_ctl->start(workers);
      for (const auto& r : rebalances->list())
        rebalance_ctl->enqueue(r["metadata"].value("namespace", ""), r["metadata"].value("name", ""));
    }
#endif
    for (const auto& m : millraces.list())
      millrace_ctl->enqueue(m["metadata"].value("namespace", ""), m["metadata"].value("name", ""));
  };

  std::unique_ptr<LeaderElector> elector;
  if (leader_elect) {
    elector = std::make_unique<LeaderElector>(
        client, LeaderElector::Options{lease_ns, "millrace-operator", identity}, [&](bool leader) {
          metrics.set_leader(leader);
          leading.store(leader);
          if (leader) {
            std::thread(begin_reconciling).detach();
          } else if (started.load()) {
            spdlog::error("lost the leader lease; exiting so a fresh replica takes over cleanly");
            std::_Exit(1);
          }
        });
    spdlog::info("millrace-operator {} waiting for the lease {}/millrace-operator", identity, lease_ns);
    elector->start();
  } else {
    metrics.set_leader(true);
    std::thread(begin_reconciling).detach();
  }

  std::vector<uint64_t> seen_relists(informers.size(), 0);
  for (;;) {
    int sig = 0;
    timespec ts{1, 0};
    siginfo_t info;
    sig = sigtimedwait(&sigs, &info, &ts);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGUSR1) {  // test hook: make every watch resume from a stale resourceVersion
      spdlog::info("SIGUSR1: re-watching from the first list's resourceVersion");
      for (auto* i : informers) i->rewatch_from_stale();
    }
    for (size_t i = 0; i < informers.size(); ++i)
      for (; seen_relists[i] < informers[i]->relists(); ++seen_relists[i]) metrics.relisted(informers[i]->resource().plural);
  }
  spdlog::info("millrace-operator stopping");
  millrace_ctl->stop();
#ifdef MILLRACE_OPERATOR_TOPICS
  topic_ctl->stop();
  if (scaler_ctl) scaler_ctl->stop();
  if (rebalance_ctl) rebalance_ctl->stop();
#endif
  // Reconciling has stopped: hand the Lease over now rather than let it expire.
  if (elector) {
    auto why = elector->stop_and_release();
    leading.store(false);
    metrics.set_leader(false);
    if (!why.empty()) spdlog::info("leader election: lease not released: {}", why);
  }
  std::_Exit(0);  // informer threads may sit in a watch read; nothing left to flush
}

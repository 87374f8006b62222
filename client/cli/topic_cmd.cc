// millrace topic create|list|describe|alter|delete
#include <iomanip>
#include <iostream>

#include "client/admin.h"
#include "client/cli/common.h"

namespace millrace::cli {

namespace {
std::string join(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}
}  // namespace

void add_topic_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  auto* topic = app.add_subcommand("topic", "create, list, describe, alter and delete topics");
  topic->require_subcommand(1);

  struct CreateOpts { std::string name; int32_t partitions = 1; int16_t rf = -1; std::vector<std::string> configs; bool if_not_exists = false; };
  auto co = std::make_shared<CreateOpts>();
  auto* create = topic->add_subcommand("create", "create a topic");
  create->add_option("name", co->name, "topic name")->required();
  create->add_option("-p,--partitions", co->partitions, "number of partitions")->capture_default_str();
  create->add_option("-r,--replication-factor", co->rf, "replicas per partition (-1: broker default)")->capture_default_str();
  create->add_option("-c,--config", co->configs, "topic config key=value (repeatable), e.g. retention.ms=86400000");
  create->add_flag("--if-not-exists", co->if_not_exists, "succeed when the topic already exists");
  create->callback([&g, &rc, co] {
    client::NewTopic t{co->name, co->partitions, co->rf, {}};
    if (!parse_pairs(co->configs, t.configs, "--config")) { rc = kExitUsage; return; }
    client::Admin admin(g.client());
    auto st = admin.create_topic(t);
    if (!st.ok() && !(co->if_not_exists && st.code == client::errc::kTopicAlreadyExists)) { rc = report("create topic '" + co->name + "'", st); return; }
    std::cout << "created topic " << co->name << " (" << co->partitions << " partitions)\n";
  });

  auto internal = std::make_shared<bool>(false);
  auto* list = topic->add_subcommand("list", "list topics");
  list->add_flag("--internal", *internal, "include internal topics");
  list->callback([&g, &rc, internal] {
    client::Admin admin(g.client());
    auto r = admin.list_topics(*internal);
    if (!r.ok()) { rc = report("list topics", r.error()); return; }
    for (auto& t : *r) std::cout << t << "\n";
  });

  auto dname = std::make_shared<std::string>();
  auto* describe = topic->add_subcommand("describe", "partitions, leaders, replicas and configs of a topic");
  describe->add_option("name", *dname, "topic name")->required();
  describe->callback([&g, &rc, dname] {
    client::Admin admin(g.client());
    auto d = admin.describe_topic(*dname);
    if (!d.ok()) { rc = report("describe topic '" + *dname + "'", d.error()); return; }
    // As kafka-topics --describe: the id in Kafka's base64url form.
    std::cout << "Topic: " << d->name;
    if (!d->topic_id.empty()) std::cout << "\tTopicId: " << d->topic_id;
    std::cout << "\tPartitionCount: " << d->partitions.size() << "\n";
    auto cfg = admin.describe_topic_configs(*dname);
    if (cfg.ok()) {
      std::cout << "Configs:";
      bool any = false;
      for (auto& c : *cfg)
        if (c.source == 1) { std::cout << (any ? "," : " ") << c.name << "=" << c.value.value_or(""); any = true; }
      std::cout << (any ? "" : " (all defaults)") << "\n";
    }
    for (auto& p : d->partitions)
      std::cout << "\tPartition: " << p.partition << "\tLeader: " << p.leader << "\tReplicas: " << join(p.replicas)
                << "\tIsr: " << join(p.isr) << "\n";
  });

  struct AlterOpts { std::string name; int32_t partitions = -1; std::vector<std::string> set, del; };
  auto ao = std::make_shared<AlterOpts>();
  auto* alter = topic->add_subcommand("alter", "add partitions or change configs");
  alter->add_option("name", ao->name, "topic name")->required();
  alter->add_option("-p,--partitions", ao->partitions, "new total partition count (can only grow)");
  alter->add_option("-c,--config", ao->set, "set key=value (repeatable)");
  alter->add_option("--delete-config", ao->del, "reset key to its default (repeatable)");
  alter->callback([&g, &rc, ao] {
    std::map<std::string, std::string> set;
    if (!parse_pairs(ao->set, set, "--config")) { rc = kExitUsage; return; }
    if (ao->partitions < 0 && set.empty() && ao->del.empty()) {
      std::cerr << "error: nothing to alter: give --partitions, --config or --delete-config\n";
      rc = kExitUsage;
      return;
    }
    client::Admin admin(g.client());
    if (ao->partitions >= 0) {
      auto st = admin.create_partitions(ao->name, ao->partitions);
      if (!st.ok()) { rc = report("add partitions to '" + ao->name + "'", st); return; }
      std::cout << "topic " << ao->name << " now has " << ao->partitions << " partitions\n";
    }
    if (!set.empty() || !ao->del.empty()) {
      std::vector<client::ConfigChange> ch;
      for (auto& [k, v] : set) ch.push_back({k, client::ConfigOp::kSet, v});
      for (auto& k : ao->del) ch.push_back({k, client::ConfigOp::kDelete, std::nullopt});
      auto st = admin.alter_topic_configs(ao->name, ch);
      if (!st.ok()) { rc = report("alter configs of '" + ao->name + "'", st); return; }
      std::cout << "updated " << ch.size() << " config(s) of " << ao->name << "\n";
    }
  });

  auto del = std::make_shared<std::string>();
  auto* remove = topic->add_subcommand("delete", "delete a topic and its data");
  remove->add_option("name", *del, "topic name")->required();
  remove->callback([&g, &rc, del] {
    client::Admin admin(g.client());
    auto st = admin.delete_topic(*del);
    if (!st.ok()) { rc = report("delete topic '" + *del + "'", st); return; }
    std::cout << "deleted topic " << *del << "\n";
  });
}

void add_cluster_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  auto* cluster = app.add_subcommand("cluster", "cluster information");
  cluster->require_subcommand(1);
  auto* describe = cluster->add_subcommand("describe", "cluster id, controller and brokers");
  describe->callback([&g, &rc] {
    client::Admin admin(g.client());
    auto d = admin.describe_cluster();
    if (!d.ok()) { rc = report("describe cluster", d.error()); return; }
    std::cout << "Cluster id: " << d->cluster_id << "\nController: " << d->controller_id << "\nBrokers:\n";
    for (auto& b : d->brokers)
      std::cout << "\t" << b.id << "\t" << b.host << ":" << b.port << (b.rack ? "\track=" + *b.rack : "") << "\n";
  });
}

}  // namespace millrace::cli

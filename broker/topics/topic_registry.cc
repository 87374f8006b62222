#include "broker/topics/topic_registry.h"

namespace millrace::broker {

namespace {
cluster::TopicControllerOptions options(const std::filesystem::path& file, storage::Env* env) {
  cluster::TopicControllerOptions o;
  o.dir = file.parent_path();
  o.legacy_file = file;
  o.env = env;
  return o;
}
}  // namespace

TopicRegistry::TopicRegistry(storage::LogManager& logs, std::filesystem::path file, storage::Env* env)
    : owned_host_(std::make_unique<cluster::LogManagerPartitionHost>(logs)),
      controller_(*owned_host_, options(file, env)) {}

TopicRegistry::TopicRegistry(cluster::PartitionHost& host, std::filesystem::path file, storage::Env* env)
    : controller_(host, options(file, env)) {}

TopicRegistry::~TopicRegistry() { controller_.stop(); }

std::string TopicRegistry::load() { return controller_.start(); }

std::optional<TopicInfo> TopicRegistry::get(const std::string& name) const {
  auto topics = controller_.topics();
  auto it = topics->find(name);
  if (it == topics->end()) return std::nullopt;
  return it->second;
}

std::vector<TopicInfo> TopicRegistry::all() const {
  auto topics = controller_.topics();
  std::vector<TopicInfo> out;
  out.reserve(topics->size());
  for (const auto& [n, t] : *topics) out.push_back(t);
  return out;
}

void TopicRegistry::create_async(const std::string& name, int32_t partitions,
                                 const std::map<std::string, std::string>& configs, bool internal, bool validate_only,
                                 Done done) {
  controller_.submit(cluster::CreateTopic{name, cluster::random_topic_id(), partitions, configs, internal},
                     validate_only, std::move(done));
}

void TopicRegistry::remove_async(const std::string& name, const cluster::TopicId& id, Done done) {
  controller_.submit(cluster::DeleteTopic{name, id}, false, std::move(done));
}

void TopicRegistry::add_partitions_async(const std::string& name, int32_t total, bool validate_only, Done done) {
  controller_.submit(cluster::AddPartitions{name, total}, validate_only, std::move(done));
}

void TopicRegistry::alter_configs_async(const std::string& name,
                                        const std::map<std::string, std::optional<std::string>>& changes,
                                        bool replace, bool validate_only, Done done) {
  controller_.submit(cluster::AlterConfigs{name, changes, replace}, validate_only, std::move(done));
}

int16_t TopicRegistry::wait(cluster::TopicController& c, cluster::TopicCommand cmd, bool validate_only,
                            std::string& message) {
  TopicError e = c.execute(std::move(cmd), validate_only);
  message = std::move(e.message);
  return e.code;
}

int16_t TopicRegistry::create(const std::string& name, int32_t partitions,
                              const std::map<std::string, std::string>& configs, bool internal, bool validate_only,
                              std::string& message) {
  return wait(controller_, cluster::CreateTopic{name, cluster::random_topic_id(), partitions, configs, internal},
              validate_only, message);
}

int16_t TopicRegistry::remove(const std::string& name, std::string& message) {
  return wait(controller_, cluster::DeleteTopic{name, {}}, false, message);
}

int16_t TopicRegistry::add_partitions(const std::string& name, int32_t total, bool validate_only,
                                      std::string& message) {
  return wait(controller_, cluster::AddPartitions{name, total}, validate_only, message);
}

int16_t TopicRegistry::alter_configs(const std::string& name,
                                     const std::map<std::string, std::optional<std::string>>& changes, bool replace,
                                     bool validate_only, std::string& message) {
  return wait(controller_, cluster::AlterConfigs{name, changes, replace}, validate_only, message);
}

}  // namespace millrace::broker

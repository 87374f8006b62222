// millrace: everyday work with a Kafka-compatible cluster (Millrace or Apache Kafka).
//   millrace -b HOST:PORT topic create|list|describe|alter|delete
//   millrace produce | consume | group ... | cluster describe | bench produce|consume
#include <iostream>

#include "client/cli/common.h"

namespace millrace::cli {

client::ClientConfig GlobalOptions::client() const {
  client::ClientConfig c;
  c.client_id = "millrace-cli";
  c.request_timeout = std::chrono::milliseconds(timeout_ms);
  (void)client::apply_properties(applied, c);   // checked by load_properties()
  if (bootstrap_given || !applied.count("bootstrap.servers")) c.bootstrap_servers = bootstrap;
  c.connect_timeout = std::min(c.request_timeout, std::chrono::milliseconds(10000));
  return c;
}

std::string GlobalOptions::load_properties() {
  applied.clear();
  if (!command_config.empty()) {
    auto file = client::load_properties_file(command_config);
    if (!file.ok()) return "--command-config: " + file.error().message;
    applied = std::move(*file);
  }
  for (const auto& kv : properties) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return "-X '" + kv + "' is not of the form key=value";
    applied[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  client::ClientConfig probe;
  auto r = client::apply_properties(applied, probe);
  if (!r.ok()) return (command_config.empty() ? "-X" : "--command-config " + command_config + " / -X") + ": " +
                      r.error().message;
  if (!r->empty()) {
    std::string keys;
    for (const auto& k : *r) keys += (keys.empty() ? "" : ", ") + k;
    std::cerr << "warning: client properties not used by millrace: " << keys << "\n";
  }
  return {};
}

namespace {
const char* hint(int16_t code) {
  switch (code) {
    case 3: return "the topic or partition does not exist: check the name with `millrace topic list`, or create it with `millrace topic create`";
    case 7: case 13: return "check -b/--bootstrap-server and that the broker is running and reachable";
    case 35: return "the broker does not speak a version this client needs; upgrade the broker";
    case 36: return "the topic exists already: inspect it with `millrace topic describe`, or choose another name";
    case 37: return "partitions can only grow; give a count larger than the current one";
    case 38: return "the replication factor cannot exceed the number of brokers (see `millrace cluster describe`)";
    case 40: return "check the config name and value (Kafka's names, e.g. retention.ms=86400000)";
    case 42: return "the request was malformed; check the command's arguments";
    case 68: return "the group still has active members: stop its consumers first";
    case 58: return "the broker refused the credentials: check sasl.jaas.config (or sasl.username/sasl.password) and sasl.mechanism in --command-config / -X";
    case 33: case 34: return "check security.protocol and sasl.mechanism against the listener behind -b";
    case -101: return "check ssl.truststore.location (the CA of the broker's certificate), ssl.keystore.* for mTLS, and ssl.endpoint.identification.algorithm";
    case 69: return "no such group: list groups with `millrace group list`";
    case 25: case 27: return "the group has active members: stop its consumers before resetting offsets";
    default: return nullptr;
  }
}
}  // namespace

int report(const std::string& what, const client::Error& e) {
  std::cerr << "error: " << what << ": " << e.to_string() << "\n";
  if (const char* h = hint(e.code)) std::cerr << "hint: " << h << "\n";
  if (e.code == client::errc::kNetworkException || e.code == client::errc::kRequestTimedOut) return kExitUnreachable;
  if (e.code == client::errc::kInvalidClientConfig) return kExitUsage;
  return kExitBroker;
}

bool parse_pairs(const std::vector<std::string>& in, std::map<std::string, std::string>& out, const char* what) {
  for (auto& s : in) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "error: " << what << " '" << s << "' is not of the form key=value\n";
      return false;
    }
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return true;
}

}  // namespace millrace::cli

int main(int argc, char** argv) {
  using namespace millrace::cli;
  CLI::App app{"millrace: topics, produce, consume, groups and benchmarks against a Kafka-compatible cluster"};
  app.require_subcommand(1);
  GlobalOptions g;
  app.add_option("-b,--bootstrap-server", g.bootstrap, "host:port[,host:port...] of one or more brokers")
      ->envname("MILLRACE_BOOTSTRAP")
      ->capture_default_str();
  auto* bootstrap_opt = app.get_option("--bootstrap-server");
  app.add_option("--timeout-ms", g.timeout_ms, "request timeout in milliseconds")->capture_default_str();
  app.add_option("--command-config", g.command_config,
                 "Java client properties file, as Kafka's tools take: security.protocol, ssl.*, sasl.mechanism, "
                 "sasl.jaas.config, client.id, request.timeout.ms, bootstrap.servers")
      ->envname("MILLRACE_COMMAND_CONFIG");
  app.add_option("-X", g.properties, "a client property key=value (repeatable; over --command-config), "
                                     "e.g. -X security.protocol=SSL -X ssl.truststore.location=ca.pem");
  app.parse_complete_callback([&g, bootstrap_opt] {
    g.bootstrap_given = bootstrap_opt->count() > 0;
    std::string error = g.load_properties();
    if (error.empty()) return;
    std::cerr << "error: " << error << "\n";
    throw CLI::RuntimeError(kExitUsage);   // app.exit() below prints nothing more for it
  });
  int rc = kExitOk;
  add_topic_commands(app, g, rc);
  add_produce_command(app, g, rc);
  add_consume_command(app, g, rc);
  add_group_commands(app, g, rc);
  add_cluster_commands(app, g, rc);
  add_bench_commands(app, g, rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return rc;
}

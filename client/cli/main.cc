// millrace: everyday work with a Kafka-compatible cluster (Millrace or Apache Kafka).
//   millrace -b HOST:PORT topic create|list|describe|alter|delete
//   millrace produce | consume | group ... | cluster describe | bench produce|consume
#include <iostream>

#include "client/cli/common.h"

namespace millrace::cli {

client::ClientConfig GlobalOptions::client() const {
  client::ClientConfig c;
  c.bootstrap_servers = bootstrap;
  c.client_id = "millrace-cli";
  c.request_timeout = std::chrono::milliseconds(timeout_ms);
  c.connect_timeout = std::chrono::milliseconds(std::min(timeout_ms, 10000));
  return c;
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
  app.add_option("--timeout-ms", g.timeout_ms, "request timeout in milliseconds")->capture_default_str();
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

// Shared pieces of the `millrace` command line: exit codes, error reporting with
// hints, and option parsing helpers.
//
// Exit codes: 0 success; 1 the cluster refused (a Kafka error code, printed);
// 2 usage error; 3 the cluster could not be reached (network, timeout).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "client/cluster.h"
#include "client/properties.h"
#include "client/result.h"

namespace millrace::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBroker = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct GlobalOptions {
  std::string bootstrap = "127.0.0.1:9092";
  bool bootstrap_given = false;               // -b or MILLRACE_BOOTSTRAP (wins over bootstrap.servers)
  int timeout_ms = 30000;
  std::string command_config;                 // --command-config: Java client properties
  std::vector<std::string> properties;        // -X key=value, applied after the file
  client::Properties applied;                 // what load_properties() read
  client::ClientConfig client() const;
  // Reads --command-config and -X into `applied` and checks them (security
  // settings, client.id, request.timeout.ms, bootstrap.servers); "" or the error
  // naming the file or setting. Warns on stderr about keys the CLI does not use.
  std::string load_properties();
};

// Prints "error: <what>: <CODE> (<n>): <message>" and a hint; returns the exit code.
int report(const std::string& what, const client::Error& e);
// "k=v" pairs into a map; false (and message on stderr) on a malformed pair.
bool parse_pairs(const std::vector<std::string>& in, std::map<std::string, std::string>& out, const char* what);

void add_topic_commands(CLI::App& app, GlobalOptions& g, int& rc);
void add_produce_command(CLI::App& app, GlobalOptions& g, int& rc);
void add_consume_command(CLI::App& app, GlobalOptions& g, int& rc);
void add_group_commands(CLI::App& app, GlobalOptions& g, int& rc);
void add_cluster_commands(CLI::App& app, GlobalOptions& g, int& rc);
void add_bench_commands(CLI::App& app, GlobalOptions& g, int& rc);

}  // namespace millrace::cli

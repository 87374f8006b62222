// A node's place in the cluster, by Kafka's KRaft keys:
//
//   process.roles                        broker, controller, or both (the default)
//   node.id                              this node's id
//   controller.quorum.voters             id@host:port,...   the static voter set, or
//   controller.quorum.bootstrap.servers  host:port,...      where to find a dynamic quorum (KIP-853)
//   controller.listener.names            the listener(s) controllers are reached on
//   inter.broker.listener.name           the listener brokers reach each other on
//
// With neither voters nor bootstrap servers, a node with the controller role is
// the only voter of its own quorum: `make run` is a one-voter cluster on the
// same code path as any other, with no special single-node branch.
//
// parse_node_roles checks the keys together and names every problem (as Kafka's
// KafkaConfig does): a controller that is not among the voters, a broker-only
// node with no way to reach a controller, both voter forms at once, a voter id
// listed twice, a quorum of other voters without this node's controller
// listener (each listener's security: listener_security.h).
// A broker-only node follows the voters as an observer; a controller-only
// node has its controller listener only. A controller with bootstrap servers
// belongs to a dynamic quorum (KIP-853): its voters are its metadata log's,
// first written by `millrace-broker format`. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/config.h"

namespace millrace::broker {

struct QuorumVoter {
  int32_t id = -1;
  std::string host;  // empty: this node, reached in-process
  uint16_t port = 0;
  bool operator==(const QuorumVoter&) const = default;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

struct NodeRoles {
  bool broker = true;
  bool controller = true;
  int32_t node_id = -1;
  std::vector<QuorumVoter> voters;        // the effective voter set (empty for a dynamic quorum: the log's)
  bool dynamic_quorum = false;            // a controller with controller.quorum.bootstrap.servers
  std::vector<HostPort> bootstrap_servers;
  std::vector<std::string> controller_listener_names;
  std::string inter_broker_listener;
};

struct NodeRolesParse {
  NodeRoles roles;
  std::vector<std::string> errors;  // each names the key(s)
  bool ok() const { return errors.empty(); }
};

NodeRolesParse parse_node_roles(const Config& config);

// A comma-separated list: items trimmed of spaces, empty ones dropped.
std::vector<std::string_view> split_list(std::string_view value);
// One voter, id@host:port (the host maybe [v6]): "" when it parses into `out`, else what is wrong.
std::string parse_quorum_voter(std::string_view s, QuorumVoter& out);

// Row validators (config_schema.cc): syntax of one value.
std::optional<std::string> validate_process_roles(std::string_view value);
std::optional<std::string> validate_quorum_voters(std::string_view value);
std::optional<std::string> validate_host_ports(std::string_view value);

}  // namespace millrace::broker

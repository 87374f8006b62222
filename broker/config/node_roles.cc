#include "broker/config/node_roles.h"

#include <strings.h>

#include "broker/config/listener.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace millrace::broker {

std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// host:port, host possibly [v6]; "" when good.
std::string parse_host_port(std::string_view s, HostPort& out) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return join({"'", s, "' is not host:port"});
  auto host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  uint32_t port = 0;
  if (!parse_number(s.substr(colon + 1), port) || port == 0 || port > 65535)
    return join({"'", s, "': port must be 1..65535"});
  out = {std::string(host), static_cast<uint16_t>(port)};
  return "";
}

}  // namespace

std::string parse_quorum_voter(std::string_view s, QuorumVoter& out) {
  auto at = s.find('@');
  if (at == std::string_view::npos) return join({"'", s, "' is not id@host:port"});
  int32_t id = -1;
  if (!parse_number(s.substr(0, at), id) || id < 0) return join({"'", s, "': the id must be a node id >= 0"});
  HostPort hp;
  if (auto e = parse_host_port(s.substr(at + 1), hp); !e.empty()) return e;
  out = {id, hp.host, hp.port};
  return "";
}

std::optional<std::string> validate_process_roles(std::string_view value) {
  auto roles = split_list(value);
  if (roles.empty()) return "must name broker, controller or both";
  std::set<std::string_view> seen;
  for (auto r : roles) {
    if (r != "broker" && r != "controller") return join({"unknown role '", r, "' (broker, controller)"});
    if (!seen.insert(r).second) return join({"role '", r, "' listed twice"});
  }
  return std::nullopt;
}

std::optional<std::string> validate_quorum_voters(std::string_view value) {
  std::set<int32_t> ids;
  for (auto item : split_list(value)) {
    QuorumVoter v;
    if (auto e = parse_quorum_voter(item, v); !e.empty()) return e;
    if (!ids.insert(v.id).second) return "voter id " + std::to_string(v.id) + " listed twice";
  }
  return std::nullopt;
}

std::optional<std::string> validate_host_ports(std::string_view value) {
  for (auto item : split_list(value)) {
    HostPort hp;
    if (auto e = parse_host_port(item, hp); !e.empty()) return e;
  }
  return std::nullopt;
}

NodeRolesParse parse_node_roles(const Config& config) {
  NodeRolesParse out;
  auto& r = out.roles;
  auto roles = config.string("process.roles");
  auto names = split_list(roles);
  r.broker = std::find(names.begin(), names.end(), "broker") != names.end();
  r.controller = std::find(names.begin(), names.end(), "controller") != names.end();
  r.node_id = static_cast<int32_t>(config.integer("node.id"));
  for (auto item : split_list(config.string("controller.quorum.voters"))) {
    QuorumVoter v;
    if (parse_quorum_voter(item, v).empty()) r.voters.push_back(v);
  }
  for (auto item : split_list(config.string("controller.quorum.bootstrap.servers"))) {
    HostPort hp;
    if (parse_host_port(item, hp).empty()) r.bootstrap_servers.push_back(hp);
  }
  for (auto n : split_list(config.string("controller.listener.names"))) r.controller_listener_names.emplace_back(n);
  r.inter_broker_listener = config.string("inter.broker.listener.name");

  auto& errors = out.errors;
  if (!r.voters.empty() && !r.bootstrap_servers.empty())
    errors.push_back("controller.quorum.voters and controller.quorum.bootstrap.servers are both set: use one "
                     "(static voters, or bootstrap servers of a dynamic quorum)");
  bool self_listed = std::any_of(r.voters.begin(), r.voters.end(), [&](const auto& v) { return v.id == r.node_id; });
  if (r.controller && !r.voters.empty() && !self_listed)
    errors.push_back("process.roles contains controller, but node.id " + std::to_string(r.node_id) +
                     " is not in controller.quorum.voters");
  if (!r.controller && r.voters.empty() && r.bootstrap_servers.empty())
    errors.push_back("process.roles is broker only: set controller.quorum.voters or "
                     "controller.quorum.bootstrap.servers so it can reach the controllers");
  if (!r.controller && self_listed)
    errors.push_back("node.id " + std::to_string(r.node_id) +
                     " is in controller.quorum.voters, but process.roles does not contain controller");
  if (r.controller && r.controller_listener_names.empty())
    errors.push_back("process.roles contains controller: controller.listener.names must name its listener");
  // A quorum with other voters needs this node's controller listener (the
  // voters reach each other there). Each listener's security protocol is
  // checked with its settings (listener_security.h).
  bool has_controller_listener = false;
  for (const auto& l : parse_listeners(config.string("listeners"), "").listeners) {
    bool is_ctl = std::any_of(r.controller_listener_names.begin(), r.controller_listener_names.end(),
                              [&](const auto& n) { return strcasecmp(n.c_str(), l.name.c_str()) == 0; });
    has_controller_listener = has_controller_listener || is_ctl;
  }
  bool others = std::any_of(r.voters.begin(), r.voters.end(), [&](const auto& v) { return v.id != r.node_id; });
  if ((others || !r.broker) && r.controller && !has_controller_listener)
    errors.push_back(std::string(others ? "controller.quorum.voters names other voters"
                                        : "process.roles is controller only") +
                     ": listeners must include this node's controller listener (a name in controller.listener.names, "
                     "e.g. CONTROLLER://0.0.0.0:9093)");
  // A controller-only node serves no clients (Kafka's rule as well).
  if (r.controller && !r.broker)
    for (const auto& l : parse_listeners(config.string("listeners"), "").listeners)
      if (std::none_of(r.controller_listener_names.begin(), r.controller_listener_names.end(),
                       [&](const auto& n) { return strcasecmp(n.c_str(), l.name.c_str()) == 0; }))
        errors.push_back("process.roles is controller only: listeners may only hold controller listeners (" +
                         config.string("controller.listener.names") + "), not " + l.name);
  // A controller with bootstrap servers is a voter (or a voter-to-be) of a
  // dynamic quorum (KIP-853): its voters are in its metadata log, first
  // written by `millrace-broker format`; it needs its controller listener.
  r.dynamic_quorum = r.controller && !r.bootstrap_servers.empty();
  if (r.dynamic_quorum && r.broker && !has_controller_listener)
    errors.push_back("controller.quorum.bootstrap.servers: a controller of a dynamic quorum is reached on its "
                     "controller listener: listeners must include one (a name in controller.listener.names)");
  if (r.voters.empty() && r.controller && !r.dynamic_quorum) r.voters.push_back({r.node_id, "", 0});  // itself, in-process
  return out;
}

}  // namespace millrace::broker

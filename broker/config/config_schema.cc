#include "broker/config/config_schema.h"

#include "broker/config/principal_rules.h"

#include <arpa/inet.h>

#include <array>
#include <map>
#include <string>

#include "broker/config/listener.h"
#include "broker/config/node_roles.h"

namespace millrace::broker {

namespace {
// "a, b,c" -> {"a", "b", "c"}: comma-separated items, trimmed, empty ones dropped.
std::vector<std::string> split_items(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}
}  // namespace

std::string_view type_name(ConfigType t) {
  switch (t) {
    case ConfigType::kInt: return "int";
    case ConfigType::kLong: return "long";
    case ConfigType::kBool: return "boolean";
    case ConfigType::kString: return "string";
    case ConfigType::kList: return "list";
    case ConfigType::kDouble: return "double";
  }
  return "?";
}

std::optional<std::string> validate_listeners(std::string_view value) {
  auto parsed = parse_listeners(value, "");
  if (!parsed.error.empty()) return parsed.error;
  if (parsed.listeners.empty()) return "at least one listener is required, e.g. PLAINTEXT://127.0.0.1:9092";
  return std::nullopt;
}

std::optional<std::string> validate_optional_listeners(std::string_view value) {
  if (value.empty()) return std::nullopt;
  return validate_listeners(value);
}

std::optional<std::string> validate_http_listeners(std::string_view value) {
  if (value.empty()) return std::nullopt;  // admin endpoint disabled
  auto parsed = parse_listeners(value, "http");
  if (!parsed.error.empty()) return parsed.error;
  return std::nullopt;
}

std::optional<std::string> validate_log_dirs(std::string_view value) {
  if (value.empty()) return "must name at least one directory";
  return std::nullopt;
}

std::optional<std::string> validate_queued_max_requests(std::string_view value) {
  if (value == "500") return std::nullopt;
  return "queued.max.requests cannot be set in Millrace (only its default 500 is accepted): there is no queue "
         "between network and handler threads for it to bound; use queued.max.request.bytes to bound request "
         "memory";
}

std::optional<std::string> validate_queued_max_request_bytes(std::string_view value) {
  if (value == "0") return "must be -1 (unbounded) or at least 1";
  return std::nullopt;
}

std::optional<std::string> validate_connection_overrides(std::string_view value) {
  if (parse_connection_overrides(value)) return std::nullopt;
  return "expected comma-separated ip:count with an IP address and a count >= 0, e.g. 10.0.0.7:200";
}

std::optional<std::map<std::string, int64_t>> parse_connection_overrides(std::string_view value) {
  std::map<std::string, int64_t> out;
  size_t start = 0;
  while (start < value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(start, comma - start);
    start = comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    const size_t colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size()) return std::nullopt;
    const std::string ip(item.substr(0, colon));
    in6_addr a6{};
    in_addr a4{};
    char canon[INET6_ADDRSTRLEN] = {};
    if (::inet_pton(AF_INET, ip.c_str(), &a4) == 1) {
      ::inet_ntop(AF_INET, &a4, canon, sizeof canon);
    } else if (::inet_pton(AF_INET6, ip.c_str(), &a6) == 1) {
      ::inet_ntop(AF_INET6, &a6, canon, sizeof canon);
    } else {
      return std::nullopt;
    }
    int64_t n = 0;
    for (char c : item.substr(colon + 1)) {
      if (c < '0' || c > '9' || n > INT32_MAX) return std::nullopt;
      n = n * 10 + (c - '0');
    }
    if (n > INT32_MAX) return std::nullopt;
    out[canon] = n;
  }
  return out;
}

std::optional<std::string> validate_replica_selector(std::string_view value) {
  if (value.empty() || value == kRackAwareReplicaSelector) return std::nullopt;
  std::string out = "'";
  out.append(value);
  out.append("' is not a replica selector Millrace has: leave replica.selector.class empty (consumers read from the "
             "leader) or set it to ");
  out.append(kRackAwareReplicaSelector);
  out.append(" (consumers read from a replica in their rack)");
  return out;
}

namespace {
constexpr int64_t kInt32Max = 2147483647;
constexpr int64_t kDay = 86400000;

constexpr std::array kSchema = {
    ConfigKey{"node.id", ConfigType::kInt, "1", 0, kInt32Max, {}, nullptr,
              "Broker id announced in Metadata and DescribeCluster."},
    ConfigKey{"cluster.id", ConfigType::kString, "millrace-local", {}, {}, {}, nullptr,
              "Cluster id announced in Metadata v2+ and DescribeCluster."},
    ConfigKey{"broker.rack", ConfigType::kString, "", {}, {}, {}, nullptr,
              "Rack (failure domain) announced for this broker in Metadata and DescribeCluster; empty = none. "
              "The operator fills it from the pod's copy of the node's rack label."},
    ConfigKey{"replica.selector.class", ConfigType::kString, "", {}, {}, {}, validate_replica_selector,
              "Where consumers that name their rack (client.rack) read from (KIP-392). Empty: the leader only "
              "(Kafka's default). org.apache.kafka.common.replica.RackAwareReplicaSelector: the leader sends a "
              "consumer whose rack it is not in to an in-sync replica in that rack (preferred_read_replica), which "
              "serves it up to its own high watermark. No other class exists in Millrace."},
    ConfigKey{"process.roles", ConfigType::kList, "broker,controller", {}, {}, {}, validate_process_roles,
              "This node's roles: broker, controller, or both (the default: a one-node cluster is its own "
              "controller quorum)."},
    ConfigKey{"controller.quorum.voters", ConfigType::kList, "", {}, {}, {}, validate_quorum_voters,
              "The static controller quorum, id@host:port,... (each voter's controller listener); empty with the "
              "controller role: this node is the only voter."},
    ConfigKey{"controller.quorum.bootstrap.servers", ConfigType::kList, "", {}, {}, {}, validate_host_ports,
              "host:port of controllers of a dynamic quorum (KIP-853), instead of controller.quorum.voters. Not "
              "served yet."},
    ConfigKey{"controller.listener.names", ConfigType::kList, "CONTROLLER", {}, {}, {}, nullptr,
              "The listener name(s) controllers are reached on."},
    ConfigKey{"metadata.log.max.record.bytes.between.snapshots", ConfigType::kLong, "20971520", 1, 1LL << 40, {}, nullptr,
              "A snapshot of the metadata state is written once this many bytes of metadata records were applied "
              "since the last; a restart loads the newest and replays only the log after it."},
    ConfigKey{"broker.heartbeat.interval.ms", ConfigType::kInt, "500", 10, kInt32Max, {}, nullptr,
              "How often a broker heartbeats the active controller (Kafka: 2000). Short, so a dead broker is fenced "
              "soon after broker.session.timeout.ms."},
    ConfigKey{"broker.session.timeout.ms", ConfigType::kInt, "3000", 100, kInt32Max, {}, nullptr,
              "A broker not heard from for this long is fenced and its partitions' leadership moves (Kafka: 9000). "
              "Six heartbeats: one lost or late heartbeat never fences."},
    ConfigKey{"controlled.shutdown.timeout.ms", ConfigType::kInt, "10000", 0, kInt32Max, {}, nullptr,
              "On SIGTERM, how long to wait for the controller to move this broker's leadership away before "
              "stopping anyway."},
    ConfigKey{"auto.leader.rebalance.enable", ConfigType::kBool, "true", {}, {}, {}, nullptr,
              "Every leader.imbalance.check.interval.seconds, a replicated partition this broker leads is handed "
              "(Raft leadership transfer) to its preferred replica, the first of its assignment, when that one is "
              "in sync and a registered, unfenced broker out of controlled shutdown. Kafka's "
              "leader.imbalance.per.broker.percentage threshold is not applied: every such partition moves."},
    ConfigKey{"replica.lag.time.max.ms", ConfigType::kLong, "30000", 50, 86400000, {}, nullptr,
              "A follower stays in a partition's ISR while it has held every committed record at some moment within "
              "this window (Kafka's rule and default) and its broker was heard from within an election timeout "
              "(so a dead or cut-off follower still leaves within about a second). The ISR decides "
              "min.insync.replicas, preferred-leader moves and follower reads, not elections or acks=all (a Raft "
              "majority)."},
    ConfigKey{"leader.replication.throttled.rate", ConfigType::kLong, "0", 0, INT64_MAX, {}, nullptr,
              "Bytes per second of catch-up this broker sends, over all partitions it leads; 0: no limit (Kafka's "
              "default). Which replicas: a topic's leader.replication.throttled.replicas (\"partition:broker,...\" "
              "or \"*\"; a listed replica is throttled while out of sync, as in Kafka); a topic without the list "
              "throttles the replicas a reassignment adds (Raft learners). Read at start (Kafka also takes it as a "
              "dynamic broker config, which Millrace does not serve yet)."},
    ConfigKey{"follower.replication.throttled.rate", ConfigType::kLong, "0", 0, INT64_MAX, {}, nullptr,
              "Bytes per second of catch-up this broker takes in as a follower, over all its partitions; 0: no "
              "limit. Which replicas: a topic's follower.replication.throttled.replicas, as for the leader's rate. "
              "A throttled follower asks its leader for one append of a tick's worth at a time, so it is not "
              "flooded. Read at start."},
    ConfigKey{"leader.imbalance.check.interval.seconds", ConfigType::kLong, "30", 1, 86400, {}, nullptr,
              "How often auto.leader.rebalance.enable checks for partitions led away from their preferred replica "
              "(Kafka: 300). Shorter, so leadership is spread again within half a minute of a restarted broker "
              "catching up; a check costs a scan of this broker's partitions and at most one transfer per "
              "partition, each proposal pause shorter than an election timeout."},
    ConfigKey{"initial.broker.registration.timeout.ms", ConfigType::kInt, "60000", 0, kInt32Max, {}, nullptr,
              "At start, how long to wait for a controller quorum to register and unfence this broker before "
              "serving anyway (logged)."},
    ConfigKey{"inter.broker.listener.name", ConfigType::kString, "", {}, {}, {}, nullptr,
              "The listener brokers reach each other on; empty: PLAINTEXT."},
    ConfigKey{"log.dirs", ConfigType::kList, "./data", {}, {}, {}, validate_log_dirs,
              "Comma-separated directories holding partition logs."},
    ConfigKey{"listeners", ConfigType::kString, "PLAINTEXT://127.0.0.1:9092", {}, {}, {}, validate_listeners,
              "Kafka listeners, NAME://host:port: PLAINTEXT for clients, and the controller listener named in "
              "controller.listener.names (e.g. CONTROLLER://0.0.0.0:9093) where the quorum has other voters."},
    ConfigKey{"listener.security.protocol.map", ConfigType::kList,
              "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", {}, {}, {},
              validate_security_protocol_map,
              "Listener name to security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), NAME:PROTOCOL,...; a "
              "controller listener not named here is PLAINTEXT. Per-listener settings: listener.name.<name>.<key> "
              "for the ssl.* and sasl.* keys below (<name> lower-cased), and "
              "listener.name.<name>.<mechanism>.sasl.jaas.config."},
    ConfigKey{"ssl.keystore.type", ConfigType::kString, "PEM", {}, {}, "PEM", nullptr,
              "Format of the listener's certificate and key: PEM only (Kafka's default JKS is not read)."},
    ConfigKey{"ssl.keystore.location", ConfigType::kString, "", {}, {}, {}, nullptr,
              "A PEM file holding the private key and its certificate chain (reloaded when it changes)."},
    ConfigKey{"ssl.keystore.certificate.chain", ConfigType::kString, "", {}, {}, {}, nullptr,
              "The certificate chain in PEM, inline (instead of ssl.keystore.location)."},
    ConfigKey{"ssl.keystore.key", ConfigType::kString, "", {}, {}, {}, nullptr,
              "The private key in PEM, inline (instead of ssl.keystore.location)."},
    ConfigKey{"ssl.key.password", ConfigType::kString, "", {}, {}, {}, nullptr,
              "Password of an encrypted private key; empty: the key is not encrypted."},
    ConfigKey{"ssl.keystore.password", ConfigType::kString, "", {}, {}, {}, nullptr,
              "Accepted for Kafka's PEM settings and ignored (a PEM key's password is ssl.key.password)."},
    ConfigKey{"ssl.truststore.type", ConfigType::kString, "PEM", {}, {}, "PEM", nullptr,
              "Format of the trusted certificates: PEM only."},
    ConfigKey{"ssl.truststore.location", ConfigType::kString, "", {}, {}, {}, nullptr,
              "A PEM file of CA certificates that client certificates are checked against (reloaded when it "
              "changes)."},
    ConfigKey{"ssl.truststore.certificates", ConfigType::kString, "", {}, {}, {}, nullptr,
              "Trusted CA certificates in PEM, inline (instead of ssl.truststore.location)."},
    ConfigKey{"ssl.truststore.password", ConfigType::kString, "", {}, {}, {}, nullptr,
              "Accepted for Kafka's settings and ignored (PEM trust stores have no password)."},
    ConfigKey{"ssl.client.auth", ConfigType::kString, "none", {}, {}, "required|requested|none", nullptr,
              "Client certificates: required (a connection without a trusted one is refused), requested (checked "
              "when sent), none. The principal of a client with a certificate is its subject "
              "(ssl.principal.mapping.rules)."},
    ConfigKey{"ssl.enabled.protocols", ConfigType::kList, "TLSv1.2,TLSv1.3", {}, {}, {}, validate_tls_protocols,
              "TLS versions served: TLSv1.2, TLSv1.3."},
    ConfigKey{"ssl.protocol", ConfigType::kString, "TLSv1.3", {}, {}, "TLSv1.2|TLSv1.3|TLS", nullptr,
              "Accepted for Kafka's settings; the versions served are ssl.enabled.protocols."},
    ConfigKey{"ssl.cipher.suites", ConfigType::kList, "", {}, {}, {}, nullptr,
              "TLS 1.2 cipher suites (OpenSSL names); empty: OpenSSL's defaults."},
    ConfigKey{"ssl.principal.mapping.rules", ConfigType::kString, "DEFAULT", {}, {}, {}, validate_principal_rules,
              "Kafka's rules from a certificate's subject (RFC 2253) to a user name: RULE:pattern/replacement/[LU], "
              "comma-separated, the first that matches wins; DEFAULT: the whole subject."},
    ConfigKey{"ssl.endpoint.identification.algorithm", ConfigType::kString, "https", {}, {}, {}, nullptr,
              "Accepted for Kafka's settings (client side)."},
    ConfigKey{"sasl.enabled.mechanisms", ConfigType::kList, "GSSAPI", {}, {}, {}, nullptr,
              "SASL mechanisms of SASL_PLAINTEXT and SASL_SSL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 "
              "(Kafka's default GSSAPI is not served: set this on a broker with a SASL listener)."},
    ConfigKey{"sasl.jaas.config", ConfigType::kString, "", {}, {}, {}, nullptr,
              "Kafka's JAAS text; for PLAIN the users are its user_<name>=\"<password>\" options "
              "(listener.name.<name>.plain.sasl.jaas.config)."},
    ConfigKey{"authorizer.class.name", ConfigType::kString, "", {}, {},
              "|org.apache.kafka.metadata.authorizer.StandardAuthorizer|kafka.security.authorizer.AclAuthorizer",
              nullptr,
              "Kafka's authorizer names turn ACLs on (both mean the same: bindings in the metadata log, Kafka's "
              "semantics); empty: every request is allowed and the ACL APIs answer SECURITY_DISABLED."},
    ConfigKey{"super.users", ConfigType::kString, "", {}, {}, {}, nullptr,
              "Principals allowed everything, semicolon-separated: User:admin;User:CN=broker."},
    ConfigKey{"allow.everyone.if.no.acl.found", ConfigType::kBool, "false", {}, {}, {}, nullptr,
              "With an authorizer, a resource no ACL names is open to everyone (Kafka's key and default)."},
    ConfigKey{"connections.max.reauth.ms", ConfigType::kLong, "0", 0, INT64_MAX, {}, nullptr,
              "A SASL session lasts at most this long before the client must re-authenticate (KIP-368); 0: no "
              "limit."},
    ConfigKey{"advertised.listeners", ConfigType::kString, "", {}, {}, {}, validate_optional_listeners,
              "Listeners announced to clients; empty = same as listeners."},
    ConfigKey{"admin.listeners", ConfigType::kString, "http://127.0.0.1:9644", {}, {}, {}, validate_http_listeners,
              "HTTP endpoint for /metrics, /healthz, /readyz; empty disables it."},
    ConfigKey{"num.partitions", ConfigType::kInt, "1", 1, 100000, {}, nullptr,
              "Partitions of an auto-created topic."},
    ConfigKey{"default.replication.factor", ConfigType::kInt, "3", 1, 32767, {}, nullptr,
              "Replication factor of a topic created without one (CreateTopics with -1, Metadata's "
              "auto-creation), capped by the live brokers: 1 on a single node, 3 on three or more. An "
              "explicit factor above the live brokers is refused with INVALID_REPLICATION_FACTOR. Above 1 "
              "each partition is a Raft group over its replicas."},
    ConfigKey{"log.flush.threads", ConfigType::kInt, "4", 1, 64, {}, nullptr,
              "Threads that run the group-commit fdatasyncs; each partition is its own file, so "
              "partitions flushed at once share the disk's journal commit instead of queueing. The same threads "
              "read cold file ranges into the page cache before a Fetch sends them (never on an io thread)."},
    ConfigKey{"log.flush.on.acks.all", ConfigType::kBool, "true", {}, {}, {}, nullptr,
              "Millrace: answer acks=all only after the batch is fsynced (group commit). false = Kafka's "
              "behaviour (acks=all answered from the page cache; durability left to replication and flush.*)."},
    ConfigKey{"auto.create.topics.enable", ConfigType::kBool, "true", {}, {}, {}, nullptr,
              "Create a topic when Metadata or Produce names an unknown one."},
    ConfigKey{"delete.topic.enable", ConfigType::kBool, "true", {}, {}, {}, nullptr,
              "Allow DeleteTopics."},
    ConfigKey{"log.retention.ms", ConfigType::kLong, "604800000", -1, INT64_MAX, {}, nullptr,
              "Default retention.ms of topics (-1 = forever)."},
    ConfigKey{"log.retention.bytes", ConfigType::kLong, "-1", -1, INT64_MAX, {}, nullptr,
              "Default retention.bytes per partition (-1 = unbounded)."},
    ConfigKey{"log.segment.bytes", ConfigType::kInt, "1073741824", 14, kInt32Max, {}, nullptr,
              "Default segment.bytes of topics."},
    ConfigKey{"log.segment.ms", ConfigType::kLong, "604800000", 1, INT64_MAX, {}, nullptr,
              "Default segment.ms of topics."},
    ConfigKey{"log.cleanup.policy", ConfigType::kString, "delete", {}, {}, "delete|compact|compact,delete", nullptr,
              "Default cleanup.policy of topics."},
    ConfigKey{"log.flush.interval.messages", ConfigType::kLong, "9223372036854775807", 1, INT64_MAX, {}, nullptr,
              "Default flush.messages: fsync after this many messages."},
    ConfigKey{"log.flush.interval.ms", ConfigType::kLong, "9223372036854775807", 0, INT64_MAX, {}, nullptr,
              "Default flush.ms: fsync after this many milliseconds."},
    ConfigKey{"log.cleaner.dedupe.buffer.size", ConfigType::kLong, "134217728", 0, INT64_MAX, {}, nullptr,
              "Memory of compaction's key map (24 bytes per key, 90% full at most; capped at 2 GiB as "
              "Kafka does per cleaner). One cleaner compacts one partition at a time, so it gets all of it; "
              "a partition with more new keys is cleaned over several passes."},
    ConfigKey{"producer.id.expiration.ms", ConfigType::kInt, "86400000", 1, kInt32Max, {}, nullptr,
              "A partition forgets an idempotent producer id this long after its last append there "
              "(checked at each checkpoint); its next batch is then accepted at any sequence."},
    ConfigKey{"log.retention.check.interval.ms", ConfigType::kLong, "300000", 1, INT64_MAX, {}, nullptr,
              "How often retention runs."},
    ConfigKey{"message.max.bytes", ConfigType::kInt, "1048588", 0, kInt32Max, {}, nullptr,
              "Largest record batch a topic accepts by default (max.message.bytes)."},
    ConfigKey{"compression.type", ConfigType::kString, "producer", {}, {},
              "producer|uncompressed|gzip|snappy|lz4|zstd", nullptr, "Default compression.type of topics."},
    ConfigKey{"socket.request.max.bytes", ConfigType::kInt, "104857600", 1, kInt32Max, {}, nullptr,
              "Largest request frame; a larger size prefix closes that connection."},
    ConfigKey{"connections.max.idle.ms", ConfigType::kLong, "600000", 1, INT64_MAX, {}, nullptr,
              "Close connections idle for this long."},
    ConfigKey{"request.timeout.ms", ConfigType::kLong, "30000", 1, INT64_MAX, {}, nullptr,
              "Deadline for reading the rest of a request and writing a response."},
    ConfigKey{"num.network.threads", ConfigType::kInt, "0", 0, 1024, {}, nullptr,
              "I/O threads (io_contexts) serving connections; 0 = one per core."},
    ConfigKey{"num.io.threads", ConfigType::kInt, "0", 0, 1024, {}, nullptr,
              "Accepted for compatibility; requests run on the network threads."},
    ConfigKey{"queued.max.requests", ConfigType::kInt, "500", 1, 100000, {}, validate_queued_max_requests,
              "Only the default (500) is accepted. Kafka bounds the queue between its network threads and its "
              "request handler threads; Millrace has no such queue (a request runs on the network thread that "
              "read it), so the key would bound nothing. Request memory is bounded by queued.max.request.bytes; "
              "a connection has at most 16 requests outstanding."},
    ConfigKey{"queued.max.request.bytes", ConfigType::kLong, "104857600", -1, INT64_MAX, {},
              validate_queued_max_request_bytes,
              "Broker-wide budget for request bytes in flight: a connection takes a request's size from it "
              "before reading the body and returns it once the response is written; while it is spent, "
              "connections stop reading (backpressure, not an error). A request larger than the budget waits "
              "for all of it and is served alone. -1 = unbounded (Kafka's default); Millrace defaults to "
              "100 MiB so that many clients sending large batches cannot exhaust memory."},
    ConfigKey{"max.connections", ConfigType::kInt, "2147483647", 0, kInt32Max, {}, nullptr,
              "Most client connections the broker keeps open; one more is closed at accept (Kafka instead "
              "stops accepting until one closes). Counted in millrace_connections_refused_total."},
    ConfigKey{"max.connections.per.ip", ConfigType::kInt, "2147483647", 0, kInt32Max, {}, nullptr,
              "Most client connections from one IP address; one more is closed at accept."},
    ConfigKey{"max.connections.per.ip.overrides", ConfigType::kString, "", {}, {}, {},
              validate_connection_overrides,
              "Per-IP exceptions to max.connections.per.ip: comma-separated ip:count, e.g. "
              "\"10.0.0.7:200,::1:50\" (IP addresses only; Kafka also takes host names)."},
    ConfigKey{"group.initial.rebalance.delay.ms", ConfigType::kInt, "3000", 0, kInt32Max, {}, nullptr,
              "Delay of the first rebalance of an empty group, so members can gather."},
    ConfigKey{"group.min.session.timeout.ms", ConfigType::kInt, "6000", 1, kInt32Max, {}, nullptr,
              "Smallest session.timeout.ms a member may ask for."},
    ConfigKey{"group.max.session.timeout.ms", ConfigType::kInt, "1800000", 1, kInt32Max, {}, nullptr,
              "Largest session.timeout.ms a member may ask for."},
    ConfigKey{"group.max.size", ConfigType::kInt, "2147483647", 1, kInt32Max, {}, nullptr,
              "Most members a group may have."},
    ConfigKey{"max.incremental.fetch.session.cache.slots", ConfigType::kInt, "1000", 0, kInt32Max, {}, nullptr,
              "Most incremental fetch sessions (KIP-227) kept at once; 0 disables sessions."},
    ConfigKey{"offsets.topic.num.partitions", ConfigType::kInt, "50", 1, 1000, {}, nullptr,
              "Partitions of __consumer_offsets when the broker creates it (a group lives on the partition "
              "its id hashes to, Kafka's formula); an existing topic keeps its count."},
    ConfigKey{"offsets.topic.replication.factor", ConfigType::kInt, "3", 1, 32767, {}, nullptr,
              "Replicas of each __consumer_offsets partition when the controller creates it, capped by the "
              "brokers registered by then (Kafka waits for them instead): a group's coordinator is the leader "
              "of its partition and moves with it when a broker is lost."},
    ConfigKey{"min.insync.replicas", ConfigType::kInt, "1", 1, kInt32Max, {}, nullptr,
              "Default for topics: an acks=all produce to a partition with fewer live in-sync replicas is "
              "refused with NOT_ENOUGH_REPLICAS before anything is written."},
    ConfigKey{"offsets.retention.minutes", ConfigType::kInt, "10080", 1, kInt32Max, {}, nullptr,
              "How long committed offsets are kept: from when their group became empty, or from their "
              "commit for a group without members and for topics a stable group no longer subscribes to."},
    ConfigKey{"offsets.retention.check.interval.ms", ConfigType::kLong, "600000", 1, INT64_MAX, {}, nullptr,
              "How often expired offsets and empty groups are removed."},
    ConfigKey{"offset.metadata.max.bytes", ConfigType::kInt, "4096", 0, kInt32Max, {}, nullptr,
              "Longest metadata string of an offset commit (longer: OFFSET_METADATA_TOO_LARGE)."},
    ConfigKey{"shutdown.timeout.ms", ConfigType::kLong, "10000", 0, kDay, {}, nullptr,
              "Upper bound on graceful shutdown after SIGTERM."},
    ConfigKey{"log.level", ConfigType::kString, "info", {}, {}, "trace|debug|info|warn|error", nullptr,
              "Log level of the structured log."},
};
}  // namespace

std::span<const ConfigKey> config_schema() { return kSchema; }

std::optional<std::string> validate_security_protocol_map(std::string_view value) {
  for (const auto& entry : split_items(value)) {
    auto colon = entry.find(':');
    if (colon == std::string::npos || colon == 0)
      return "'" + entry + "' is not NAME:PROTOCOL";
    auto protocol = entry.substr(colon + 1);
    if (protocol != "PLAINTEXT" && protocol != "SSL" && protocol != "SASL_PLAINTEXT" && protocol != "SASL_SSL")
      return "'" + protocol + "' is not a security protocol; allowed PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL";
  }
  return std::nullopt;
}

std::optional<std::string> validate_tls_protocols(std::string_view value) {
  auto items = split_items(value);
  if (items.empty()) return "at least one of TLSv1.2, TLSv1.3";
  for (const auto& v : items)
    if (v != "TLSv1.2" && v != "TLSv1.3") return "'" + v + "' is not served; allowed TLSv1.2, TLSv1.3";
  return std::nullopt;
}

std::optional<std::string> validate_principal_rules(std::string_view value) {
  auto parsed = parse_principal_rules(value);
  if (!parsed.error.empty()) return parsed.error;
  return std::nullopt;
}

std::optional<ListenerKey> find_listener_key(std::string_view name) {
  constexpr std::string_view kPrefix = "listener.name.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  auto dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  ListenerKey out;
  out.listener = std::string(name.substr(0, dot));
  std::string_view key = name.substr(dot + 1);
  // <mechanism>.sasl.jaas.config: the JAAS text of one mechanism.
  constexpr std::string_view kJaas = ".sasl.jaas.config";
  if (key.size() > kJaas.size() && key.substr(key.size() - kJaas.size()) == kJaas) key = "sasl.jaas.config";
  if (key.substr(0, 4) != "ssl." && key.substr(0, 5) != "sasl." && key != "connections.max.reauth.ms")
    return std::nullopt;
  out.row = find_config_key(key);
  if (!out.row) return std::nullopt;
  return out;
}

const ConfigKey* find_config_key(std::string_view name) {
  for (const auto& k : kSchema)
    if (k.name == name) return &k;
  return nullptr;
}

}  // namespace millrace::broker

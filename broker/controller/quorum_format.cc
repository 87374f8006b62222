#include "broker/controller/quorum_format.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "broker/config/node_roles.h"
#include "cluster/controller/metadata_log.h"
#include "cluster/identity/node_identity.h"
#include "storage/checkpoint.h"

namespace millrace::broker {

namespace fs = std::filesystem;

std::string parse_initial_controllers(std::string_view text, std::vector<InitialController>& out) {
  out.clear();
  for (auto item : split_list(text)) {
    const std::string what = "--initial-controllers: '" + std::string(item) + "'";
    // id@host:port (controller.quorum.voters' form), then :directoryId
    auto last = item.rfind(':');
    QuorumVoter v;
    if (last == std::string_view::npos) return what + " is not id@host:port:directoryId";
    if (auto e = parse_quorum_voter(item.substr(0, last), v); !e.empty())
      return what + " is not id@host:port:directoryId (" + e + ")";
    InitialController c{v.id, v.host, v.port, std::string(item.substr(last + 1))};
    if (!cluster::decode_directory_id(c.directory_id))
      return what + ": the directory id is not a 22-character Kafka Uuid (e.g. from `kafka-storage.sh random-uuid`)";
    if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.id == c.id; }))
      return what + ": controller " + std::to_string(c.id) + " is listed twice";
    out.push_back(std::move(c));
  }
  if (out.empty()) return "--initial-controllers: no controller listed";
  return "";
}

bool metadata_log_exists(const fs::path& log_dir) {
  std::error_code ec;
  return fs::exists(log_dir / cluster::kMetadataPartitionDir, ec);
}

std::vector<InitialController> read_initial_controllers(const fs::path& log_dir) {
  std::ifstream in(log_dir / cluster::kMetadataPartitionDir / kInitialControllersFile);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<InitialController> out;
  if (!in && !in.eof()) return out;
  std::string text = ss.str();
  std::replace(text.begin(), text.end(), '\n', ',');
  if (!parse_initial_controllers(text, out).empty()) out.clear();
  return out;
}

std::string format_storage(const Config& cfg, const FormatRequest& req) {
  const int modes = int(req.standalone) + int(req.no_initial_controllers) + int(!req.initial_controllers.empty());
  if (modes != 1)
    return "format: give exactly one of --standalone, --initial-controllers, --no-initial-controllers";
  auto roles = parse_node_roles(cfg);
  if (!roles.ok()) return "format: " + roles.errors.front();
  if (!roles.roles.dynamic_quorum)
    return "format: only a controller of a dynamic quorum is formatted (process.roles with controller, and "
           "controller.quorum.bootstrap.servers); a static quorum (controller.quorum.voters) needs no format";
  const int32_t me = roles.roles.node_id;
  auto dirs = cfg.list("log.dirs");
  if (dirs.empty()) return "format: log.dirs is empty";
  const fs::path dir(dirs.front());
  if (metadata_log_exists(dir))
    return "format: " + (dir / cluster::kMetadataPartitionDir).string() +
           " exists: this directory is formatted already (remove it to start over, losing its metadata)";
  std::vector<InitialController> initial;
  std::string my_directory;
  std::vector<int32_t> voters;
  if (!req.initial_controllers.empty()) {
    if (auto e = parse_initial_controllers(req.initial_controllers, initial); !e.empty()) return "format: " + e;
    auto mine = std::find_if(initial.begin(), initial.end(), [&](const auto& c) { return c.id == me; });
    if (mine == initial.end())
      return "format: --initial-controllers does not list this node (node.id " + std::to_string(me) + ")";
    my_directory = mine->directory_id;
    for (const auto& c : initial) voters.push_back(c.id);
  } else if (req.standalone) {
    voters = {me};
  }
  auto id = cluster::ensure_identity(dir, cfg.string("cluster.id"), me, nullptr, my_directory);
  if (!id.error.empty()) return "format: " + id.error;
  if (!my_directory.empty() && id.identity.directory_id != my_directory)
    return "format: " + dir.string() + " has directory id " + id.identity.directory_id +
           ", not the one --initial-controllers gives this node (" + my_directory + ")";
  cluster::MetadataLogOptions o;
  o.me = me;
  o.voters = voters;
  o.observer = voters.empty();  // --no-initial-controllers: no configuration; it learns the voters' from the leader
  auto log = cluster::MetadataLog::open(dir, o);
  if (!log.ok()) return "format: metadata log: " + log.status().to_string();
  if (auto st = (*log)->close(); !st.ok()) return "format: metadata log: " + st.to_string();
  if (!initial.empty()) {
    std::string text;
    for (const auto& c : initial)
      text += std::to_string(c.id) + "@" + (c.host.find(':') != std::string::npos ? "[" + c.host + "]" : c.host) + ":" +
              std::to_string(c.port) + ":" + c.directory_id + "\n";
    auto path = dir / cluster::kMetadataPartitionDir / kInitialControllersFile;
    if (auto st = storage::write_file_atomic(path, std::vector<uint8_t>(text.begin(), text.end())); !st.ok())
      return "format: " + path.string() + ": " + st.to_string();
  }
  return "";
}

}  // namespace millrace::broker

#include "cluster/replication/read_replica.h"

#include <algorithm>

namespace millrace::cluster {

int32_t choose_read_replica(std::string_view client_rack, int32_t leader, const std::vector<int32_t>& replicas,
                            const std::vector<int32_t>& in_sync, const std::map<int32_t, std::string>& racks) {
  if (client_rack.empty()) return -1;
  auto rack_of = [&](int32_t id) -> const std::string* {
    auto it = racks.find(id);
    return it == racks.end() ? nullptr : &it->second;
  };
  if (const std::string* r = rack_of(leader); r && *r == client_rack) return -1;
  for (int32_t id : replicas) {
    if (id == leader) continue;
    if (std::find(in_sync.begin(), in_sync.end(), id) == in_sync.end()) continue;
    const std::string* r = rack_of(id);
    if (r && *r == client_rack) return id;
  }
  return -1;
}

}  // namespace millrace::cluster

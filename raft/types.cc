#include "raft/types.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace millrace::raft {

Payload Entry::payload() const {
  if (data || !file) return data;
  auto out = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(file->length));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = ::pread(file->fd, out->data() + done, out->size() - done,
                        static_cast<off_t>(file->position + static_cast<int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return nullptr;
    done += static_cast<size_t>(n);
  }
  return out;
}

bool Entry::operator==(const Entry& o) const {
  if (first != o.first || last != o.last || term != o.term || type != o.type) return false;
  if (bytes() != o.bytes()) return false;
  if (bytes() == 0) return true;
  Payload a = payload(), b = o.payload();
  return a && b && *a == *b;
}

namespace {
bool has(const std::vector<NodeId>& v, NodeId n) { return std::binary_search(v.begin(), v.end(), n); }

void put_list(std::vector<uint8_t>& out, const std::vector<NodeId>& v) {
  out.push_back(static_cast<uint8_t>(v.size() >> 8));
  out.push_back(static_cast<uint8_t>(v.size()));
  for (NodeId n : v) {
    auto u = static_cast<uint32_t>(n.value());
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(u >> s));
  }
}

bool get_list(const std::vector<uint8_t>& in, size_t& at, std::vector<NodeId>* v) {
  if (in.size() - at < 2) return false;
  size_t n = (size_t{in[at]} << 8) | in[at + 1];
  at += 2;
  if ((in.size() - at) / 4 < n) return false;
  v->clear();
  for (size_t i = 0; i < n; ++i, at += 4) {
    uint32_t u = (uint32_t{in[at]} << 24) | (uint32_t{in[at + 1]} << 16) | (uint32_t{in[at + 2]} << 8) | in[at + 3];
    v->push_back(NodeId(static_cast<int32_t>(u)));
  }
  return std::is_sorted(v->begin(), v->end()) && std::adjacent_find(v->begin(), v->end()) == v->end();
}

std::string list_string(const std::vector<NodeId>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s.push_back(',');
    s.append(std::to_string(v[i].value()));
  }
  s.push_back('}');
  return s;
}
}  // namespace

bool Config::is_voter(NodeId n) const { return has(voters, n) || has(outgoing, n); }
bool Config::is_learner(NodeId n) const { return has(learners, n); }

std::vector<NodeId> Config::all() const {
  std::vector<NodeId> out = voters;
  out.insert(out.end(), outgoing.begin(), outgoing.end());
  out.insert(out.end(), learners.begin(), learners.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint8_t> Config::encode() const {
  std::vector<uint8_t> out;
  out.push_back(0);  // version
  put_list(out, voters);
  put_list(out, outgoing);
  put_list(out, learners);
  return out;
}

bool Config::decode(const std::vector<uint8_t>& bytes, Config* out) {
  if (bytes.empty() || bytes[0] != 0) return false;
  size_t at = 1;
  Config c;
  if (!get_list(bytes, at, &c.voters) || !get_list(bytes, at, &c.outgoing) || !get_list(bytes, at, &c.learners))
    return false;
  if (at != bytes.size()) return false;
  for (NodeId n : c.learners)
    if (c.is_voter(n)) return false;
  *out = std::move(c);
  return true;
}

std::string Config::to_string() const {
  std::string s = "voters=" + list_string(voters);
  if (joint()) s += " outgoing=" + list_string(outgoing);
  if (!learners.empty()) s += " learners=" + list_string(learners);
  return s;
}

}  // namespace millrace::raft

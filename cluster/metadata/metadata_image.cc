#include "cluster/metadata/metadata_image.h"

#include <algorithm>
#include <cctype>

namespace millrace::cluster {

std::string topic_id_hex(const TopicId& id) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

MetadataImage::MetadataImage(uint64_t version, std::string cluster_id, int32_t controller_id,
                             std::vector<BrokerImage> brokers, std::vector<TopicImage> topics)
    : version_(version), cluster_id_(std::move(cluster_id)), controller_id_(controller_id), brokers_(std::move(brokers)) {
  for (auto& t : topics) {
    names_by_id_[t.id] = t.name;
    std::string name = t.name;
    topics_.emplace(std::move(name), std::move(t));
  }
}

std::optional<ListenerEndpoint> BrokerImage::endpoint(std::string_view listener) const {
  for (const auto& e : endpoints)
    if (e.listener.size() == listener.size() &&
        std::equal(e.listener.begin(), e.listener.end(), listener.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                               std::tolower(static_cast<unsigned char>(b)); }))
      return e;
  // An image made without endpoints (one node, local_image.h): its one address.
  if (endpoints.empty() && port >= 0) return ListenerEndpoint{std::string(listener), host, port};
  return std::nullopt;
}

const SecurityImage& MetadataImage::security() const {
  static const SecurityImage kNone;
  return security_ ? *security_ : kNone;
}

const BrokerImage* MetadataImage::broker(int32_t id) const {
  for (const auto& b : brokers_)
    if (b.id == id) return &b;
  return nullptr;
}

const TopicImage* MetadataImage::topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicImage* MetadataImage::topic(const TopicId& id) const {
  auto it = names_by_id_.find(id);
  return it == names_by_id_.end() ? nullptr : topic(it->second);
}

const PartitionImage* MetadataImage::partition(std::string_view name, int32_t index) const {
  const TopicImage* t = topic(name);
  if (!t || index < 0 || static_cast<size_t>(index) >= t->partitions.size()) return nullptr;
  return &t->partitions[static_cast<size_t>(index)];
}

std::set<int32_t> MetadataImage::leader_candidates() const {
  std::set<int32_t> out;
  for (const auto& b : brokers_)
    if (!b.fenced && !b.in_controlled_shutdown) out.insert(b.id);
  return out;
}

}  // namespace millrace::cluster

#include "broker/handlers/leader_hint.h"

namespace millrace::broker {

std::optional<LeaderHint> leader_hint(const cluster::MetadataImage* image, std::string_view topic, int32_t partition,
                                      int32_t self, KnownLeader known, std::string_view listener) {
  if (!image) return std::nullopt;
  const auto* p = image->partition(topic, partition);
  if (p && known.id >= 0 && known.id != self && known.epoch > p->leader_epoch)
    if (const auto* b = image->broker(known.id); b && !b->fenced)
      if (auto e = b->endpoint(listener)) return LeaderHint{known.id, known.epoch, e->host, e->port};
  if (!p || p->leader < 0 || p->leader == self) return std::nullopt;
  const auto* b = image->broker(p->leader);  // the image holds unfenced brokers only
  if (!b || b->fenced) return std::nullopt;
  auto e = b->endpoint(listener);
  if (!e) return std::nullopt;
  return LeaderHint{p->leader, p->leader_epoch, e->host, e->port};
}

}  // namespace millrace::broker

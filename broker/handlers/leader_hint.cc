#include "broker/handlers/leader_hint.h"

namespace millrace::broker {

std::optional<LeaderHint> leader_hint(const cluster::MetadataImage* image, std::string_view topic, int32_t partition,
                                      int32_t self, KnownLeader known) {
  if (!image) return std::nullopt;
  const auto* p = image->partition(topic, partition);
  if (p && known.id >= 0 && known.id != self && known.epoch > p->leader_epoch)
    if (const auto* b = image->broker(known.id); b && !b->fenced && b->port >= 0)
      return LeaderHint{known.id, known.epoch, b->host, b->port};
  if (!p || p->leader < 0 || p->leader == self) return std::nullopt;
  const auto* b = image->broker(p->leader);  // the image holds unfenced brokers only
  if (!b || b->fenced || b->port < 0) return std::nullopt;
  return LeaderHint{p->leader, p->leader_epoch, b->host, b->port};
}

}  // namespace millrace::broker

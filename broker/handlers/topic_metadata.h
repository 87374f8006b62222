// Small lookups shared by the handlers that name topics by id.
#pragma once

#include <optional>

#include "broker/kafka/broker_state.h"
#include "protocol/wire/types.h"

namespace millrace::broker {

inline std::optional<TopicInfo> find_topic_by_id(BrokerState& b, const proto::Uuid& id) {
  for (auto& t : b.topics.all())
    if (t.id == id.bytes) return t;
  return std::nullopt;
}

}  // namespace millrace::broker

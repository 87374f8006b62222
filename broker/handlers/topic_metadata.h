// Small lookups shared by the handlers that name topics by id.
#pragma once

#include <optional>

#include "broker/kafka/broker_state.h"
#include "protocol/wire/types.h"

namespace millrace::broker {

// The topic's name by its id, from the metadata image (the one source every
// handler reads; a map lookup, not a scan of the registry).
inline std::optional<std::string> topic_name_by_id(const BrokerState& b, const proto::Uuid& id) {
  auto image = b.metadata.current();
  if (const auto* t = image->topic(id.bytes)) return t->name;
  return std::nullopt;
}

// The registry's entry (configs, internal flag) of the topic the image names by `id`.
inline std::optional<TopicInfo> find_topic_by_id(BrokerState& b, const proto::Uuid& id) {
  auto name = topic_name_by_id(b, id);
  if (!name) return std::nullopt;
  auto t = b.topics.get(*name);
  if (!t || t->id != id.bytes) return std::nullopt;  // re-created under the same name since the image
  return t;
}

}  // namespace millrace::broker

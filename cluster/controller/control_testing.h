// Test-only helpers shared by the controller's decision tests: topic ids and
// applying a decision's records to a state, each record required to apply.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "cluster/controller/topic_control.h"

namespace millrace::cluster::testing {

// A version-4 looking topic id ending in n.
inline TopicId id_of(uint8_t n) {
  TopicId id{};
  id[0] = 0x40;
  id[15] = n;
  return id;
}

inline void apply_all(MetadataState& s, const std::vector<records::AnyRecord>& records) {
  for (const auto& r : records) ASSERT_EQ(s.apply(r), "") << records::record_type_name(records::record_type(r));
}

}  // namespace millrace::cluster::testing

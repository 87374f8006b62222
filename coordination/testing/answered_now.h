// The coordinator's answer-by-callback calls, for tests and fuzzers whose
// store completes appends inline (MemoryStore without `hold`): each returns
// the answer the call gave before returning. An answer still outstanding is
// reported as error code -1 (the caller's assertion then fails).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coordination/group_coordinator.h"

namespace millrace::coordination::testing {

inline std::vector<int16_t> commit_now(GroupCoordinator& c, const std::string& group, const std::string& member,
                                       int32_t generation, const std::optional<std::string>& instance,
                                       const std::vector<OffsetCommitEntry>& offsets, int64_t now_ms) {
  std::vector<int16_t> out(offsets.size(), -1);
  c.commit_offsets(group, member, generation, instance, offsets, now_ms, [&out](std::vector<int16_t> r) { out = std::move(r); });
  return out;
}

inline int16_t delete_group_now(GroupCoordinator& c, const std::string& group) {
  int16_t out = -1;
  c.delete_group(group, [&out](int16_t e) { out = e; });
  return out;
}

inline int16_t delete_offsets_now(GroupCoordinator& c, const std::string& group,
                                  const std::vector<std::pair<std::string, int32_t>>& parts,
                                  std::vector<int16_t>& per_partition) {
  int16_t out = -1;
  per_partition.assign(parts.size(), -1);
  c.delete_offsets(group, parts, [&](int16_t e, std::vector<int16_t> per) {
    out = e;
    per_partition = std::move(per);
  });
  return out;
}

}  // namespace millrace::coordination::testing

// Majorities, plain and joint. A configuration's commit index is the highest
// offset a majority of its voters has (acknowledged, or synced, per
// Durability); under joint consensus both halves must agree, so it is the
// lower of the two. Elections and CheckQuorum tally yes/no the same way.
// Pure functions over small voter lists (a group has a handful of voters):
// no allocation, a fixed stack array per call.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include "raft/types.h"

namespace millrace::raft {

enum class VoteResult : uint8_t { kPending, kWon, kLost };

inline constexpr size_t kMaxVoters = 64;  // larger voter sets are refused as invalid configs

// The highest index a majority of `voters` has, by match_of(voter) (an
// std::optional<Index>; nullopt counts as nothing). An empty voter list
// agrees to anything (the absent half of a non-joint config).
template <typename MatchOf>
Index majority_index(const std::vector<NodeId>& voters, const MatchOf& match_of) {
  if (voters.empty()) return Index(std::numeric_limits<int64_t>::max());
  std::array<int64_t, kMaxVoters> m{};
  size_t n = std::min(voters.size(), kMaxVoters);
  for (size_t i = 0; i < n; ++i) {
    std::optional<Index> x = match_of(voters[i]);
    m[i] = x ? x->value() : -1;
  }
  std::sort(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(n), std::greater<>());
  return Index(m[n / 2]);  // n=3: the 2nd highest; n=4: the 3rd; n=5: the 3rd
}

// Yes/no tally of one voter list; vote_of(voter) returns std::optional<bool>.
template <typename VoteOf>
VoteResult majority_vote(const std::vector<NodeId>& voters, const VoteOf& vote_of) {
  if (voters.empty()) return VoteResult::kWon;
  size_t yes = 0, no = 0;
  for (NodeId v : voters) {
    std::optional<bool> x = vote_of(v);
    if (!x) continue;
    (*x ? yes : no)++;
  }
  size_t q = voters.size() / 2 + 1;
  if (yes >= q) return VoteResult::kWon;
  if (no + q > voters.size()) return VoteResult::kLost;  // the rest cannot make a majority
  return VoteResult::kPending;
}

template <typename VoteOf>
VoteResult joint_vote(const Config& c, const VoteOf& vote_of) {
  VoteResult a = majority_vote(c.voters, vote_of);
  VoteResult b = majority_vote(c.outgoing, vote_of);
  if (a == VoteResult::kLost || b == VoteResult::kLost) return VoteResult::kLost;
  if (a == VoteResult::kWon && b == VoteResult::kWon) return VoteResult::kWon;
  return VoteResult::kPending;
}

}  // namespace millrace::raft

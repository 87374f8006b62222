// Which __consumer_offsets partition a group lives on: Kafka's formula
// (GroupCoordinatorService.partitionFor → Utils.abs(groupId.hashCode()) % n),
// so FindCoordinator agrees with every other Kafka tool. Java's String.hashCode
// runs over UTF-16 code units: s[0]*31^(k-1) + ... + s[k-1] in int32 arithmetic;
// Utils.abs is `x & 0x7fffffff`. The group id arrives as UTF-8; bytes that are
// not valid UTF-8 count as U+FFFD each, as Java's decoder replaces them.
#pragma once

#include <cstdint>
#include <string_view>

namespace millrace::coordination {

// Java's String.hashCode of the UTF-8 text `s`.
int32_t java_string_hash(std::string_view s);

// REQUIRES: partitions >= 1.
int32_t offsets_partition_for(std::string_view group_id, int32_t partitions);

}  // namespace millrace::coordination

// Strong types for the numbers that are easy to mix up: offsets, leader epochs,
// partition ids, broker ids, producer ids. A NamedType is a thin wrapper with
// no runtime cost; arithmetic is allowed only within one type.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace millrace {

template <typename T, typename Tag>
class NamedType {
 public:
  using value_type = T;
  constexpr NamedType() = default;
  constexpr explicit NamedType(T v) : v_(v) {}
  constexpr T value() const { return v_; }
  constexpr T operator()() const { return v_; }
  constexpr auto operator<=>(const NamedType&) const = default;
  constexpr NamedType operator+(T d) const { return NamedType(v_ + d); }
  constexpr NamedType operator-(T d) const { return NamedType(v_ - d); }
  constexpr T operator-(NamedType o) const { return v_ - o.v_; }
  constexpr NamedType& operator+=(T d) { v_ += d; return *this; }
  constexpr NamedType& operator++() { ++v_; return *this; }
  friend std::ostream& operator<<(std::ostream& os, NamedType n) { return os << n.v_; }

 private:
  T v_{};
};

using Offset = NamedType<int64_t, struct OffsetTag>;
using LeaderEpoch = NamedType<int32_t, struct LeaderEpochTag>;
using PartitionId = NamedType<int32_t, struct PartitionIdTag>;
using BrokerId = NamedType<int32_t, struct BrokerIdTag>;
using ProducerId = NamedType<int64_t, struct ProducerIdTag>;
using ProducerEpoch = NamedType<int16_t, struct ProducerEpochTag>;

}  // namespace millrace

template <typename T, typename Tag>
struct std::hash<millrace::NamedType<T, Tag>> {
  size_t operator()(millrace::NamedType<T, Tag> n) const noexcept { return std::hash<T>{}(n.value()); }
};

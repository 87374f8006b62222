// std::byteswap is C++23; g++ 12 in C++20 mode lacks it. Same contract, for the
// unsigned fixed-width integers the wire reader/writer use.
#pragma once

#include <cstdint>

namespace millrace::wire {

template <typename U>
constexpr U byteswap(U v) {
  if constexpr (sizeof(U) == 1) return v;
  else if constexpr (sizeof(U) == 2) return static_cast<U>(__builtin_bswap16(v));
  else if constexpr (sizeof(U) == 4) return static_cast<U>(__builtin_bswap32(v));
  else return static_cast<U>(__builtin_bswap64(v));
}

}  // namespace millrace::wire

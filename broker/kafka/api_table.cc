#include "broker/kafka/api_table.h"

#include <array>

#include "broker/handlers/handlers.h"

namespace millrace::broker {

namespace {

// A listed API must have a handler: handle(RequestContext&, Request&).
template <typename H>
concept HasHandle = requires(RequestContext& ctx, typename H::Request& req) { handle(ctx, req); };

template <typename... H>
constexpr auto rows(HandlerList<H...>) {
  static_assert((HasHandle<H> && ...), "every API in ServedApis needs a handle() overload (broker/handlers/)");
  return std::array<ApiRow, sizeof...(H)>{ApiRow{H::kApiKey, H::kAdvertiseMin, H::kAdvertiseMax, H::kServeMin}...};
}

constexpr auto kApis = rows(ServedApis{});

constexpr bool unique_keys() {
  for (size_t i = 0; i < kApis.size(); ++i)
    for (size_t j = i + 1; j < kApis.size(); ++j)
      if (kApis[i].key == kApis[j].key) return false;
  return true;
}
static_assert(unique_keys(), "an API is listed twice in ServedApis");

}  // namespace

std::span<const ApiRow> api_table() { return kApis; }

const ApiRow* find_api(int16_t key) {
  for (const auto& r : kApis)
    if (r.key == key) return &r;
  return nullptr;
}

}  // namespace millrace::broker

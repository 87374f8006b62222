// Staged<Body>: a handler's answer in two stages, for requests the connection
// pipelines (Produce; see broker/server/request_dispatcher.h).
//
// The handler itself is stage 1: it runs in request order, before the
// connection reads the next request (for Produce: validate and append). When
// it has nothing left to wait for it fills `body` and leaves `rest` empty.
// Otherwise `rest` is stage 2, a coroutine not yet started that completes the
// response (for Produce: await the fsync). Stage 2 may run after the request's
// frame, RequestContext and connection are gone, so it owns everything it
// uses (shared_ptr / values) and may refer only to BrokerState, which outlives
// every connection.
#pragma once

#include <utility>  // before awaitable.hpp (Boost 1.74)
#include <boost/asio/awaitable.hpp>

#include <optional>

namespace millrace::broker {

template <typename Body>
struct Staged {
  Body body;                                           // the response when `rest` is empty
  std::optional<boost::asio::awaitable<Body>> rest;    // else: stage 2, which returns it
};

template <typename T>
inline constexpr bool kIsStaged = false;
template <typename Body>
inline constexpr bool kIsStaged<Staged<Body>> = true;

}  // namespace millrace::broker

// File: engine/http/response.h
//
// Checks a backend's answer to the engine's upstream upgrade request (RFC 6455 §4.1, client
// side). Pure logic.
//
//   UpstreamAnswer a = ParseUpgradeResponse(buffered, expected_accept, offered_protocols);
//   if (a.kind == UpstreamAnswer::kNeedMore) ...;   // keep reading (bounded by max_bytes)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsgate::engine::http {

struct UpstreamAnswer {
  enum Kind : uint8_t { kNeedMore, kAccepted, kRefused };
  Kind kind = kNeedMore;
  size_t consumed = 0;     // kAccepted: bytes of the response head; anything after is frames
  int status = 0;          // the backend's HTTP status, when one was read
  std::string protocol;    // kAccepted: the backend's Sec-WebSocket-Protocol, if any
  std::string extensions;  // kAccepted: the backend's permessage-deflate answer, if any (extensions.h)
  std::string error;       // kRefused: why, for the 502 body and the log
};

// `buffered`: the backend's bytes so far. `expected_accept`: AcceptKey(our key).
// `offered_protocols`: the client's Sec-WebSocket-Protocol value we passed on ("" if none).
// `offered_extensions`: the permessage-deflate offers we passed on ("" if none); an answer that
// is not a valid acceptance of one of them is refused.
UpstreamAnswer ParseUpgradeResponse(std::string_view buffered, std::string_view expected_accept,
                                    std::string_view offered_protocols, std::string_view offered_extensions = {},
                                    size_t max_bytes = 16 * 1024);

}  // namespace wsgate::engine::http

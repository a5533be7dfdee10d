// File: agent/json.h — the one way the agent writes JSON (nlohmann-json): compact, and text that
// is not UTF-8 is replaced (U+FFFD) instead of throwing, so no input can make an answer, a JWT or
// a JWK invalid JSON.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace wsgate::agent {

using Json = nlohmann::ordered_json;  // members in the order they are written

inline std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace wsgate::agent

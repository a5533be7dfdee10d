// File: engine/policy/origin.h
//
// The Origin allow-list that stops cross-site WebSocket hijacking: a page on evil.example cannot
// open a socket to the gateway with a victim's cookies or ambient credentials when its Origin is
// not listed. Patterns (case-insensitive; default ports are implied, so "https://a.example" and
// "https://a.example:443" are the same origin):
//   "https://app.example.com"    exactly that origin
//   "https://*.example.com"      any sub-domain at any depth, same scheme and port; never the bare
//                                example.com (list it too if it should match)
//   "*"                          any origin (the list then only decides about requests without one)
//   "null"                       the opaque origin browsers send from sandboxed frames and files
// A request without Origin (non-browser clients: wscat, backends) is allowed unless
// `allow_absent` is false. An empty list allows every origin. Pure logic.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace wsgate::engine::policy {

class OriginRules {
 public:
  // Errors name the entry ("origins[2]: 'example.com' needs a scheme, e.g. https://example.com").
  static absl::StatusOr<OriginRules> Compile(const std::vector<std::string>& origins, bool allow_absent);
  // `origin`: the header's value, or nullopt when the request had none.
  bool Allows(std::optional<std::string_view> origin) const;
  bool empty() const { return exact_.empty() && wildcard_.empty() && !any_ && allow_absent_; }

 private:
  struct Wildcard {
    std::string scheme;  // "https"
    std::string suffix;  // ".example.com"
    std::string port;    // "" for the scheme's default
  };
  std::vector<std::string> exact_;  // normalized "https://app.example.com"
  std::vector<Wildcard> wildcard_;
  bool any_ = false;
  bool allow_absent_ = true;
};

}  // namespace wsgate::engine::policy

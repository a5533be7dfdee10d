// File: engine/config/vhost.h
//
// Virtual-host names and the Host → vhost decision (issue 12). Pure: no sockets.
//
// A vhost is selected by the request's Host header, case-insensitively and without its port:
//   1. an exact name or alias ("gw.example.com", "127.0.0.1", "[::1]");
//   2. else the longest leading wildcard whose suffix the host ends with ("*.example.com" matches
//      "a.example.com" and "a.b.example.com", never the bare "example.com");
//   3. else the default vhost (Vhost.is_default), like nginx's default_server;
//   4. else nothing: the router answers 404 "No matching API found".
//
//   WSGATE_ASSIGN_OR_RETURN(std::string name, NormalizeVhostName(proto_name));   // compile
//   int v = index.Match(NormalizeHostHeader(host_header, buf));                    // handshake
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace wsgate::engine::config {

inline constexpr size_t kMaxHostLength = 255;

// A configured vhost name or alias in its matching form: lower case; an IPv6 literal in
// brackets ("::1" and "[::1]" both give "[::1]"). INVALID_ARGUMENT (without a field path; the
// caller adds it) for an empty name, a port, a trailing dot, a '*' anywhere but a leading "*."
// label ("*", "a.*.com", "*foo.com"), an empty or over-long label, or a character a host name
// cannot hold.
absl::StatusOr<std::string> NormalizeVhostName(std::string_view name);
inline bool IsWildcardName(std::string_view normalized) { return normalized.size() > 2 && normalized[0] == '*'; }

// A Host header value → its matching form in `buf`: lower case, the port removed ("[::1]:9099"
// → "[::1]", "Gw.Example.com:80" → "gw.example.com"), one trailing dot removed. Empty when the
// host is longer than the buffer.
std::string_view NormalizeHostHeader(std::string_view host, std::array<char, kMaxHostLength>& buf);

// The compiled Host → vhost decision. Vhosts are numbered by their position in the snapshot.
class VhostIndex {
 public:
  // `normalized` from NormalizeVhostName. False when the name is taken (by any vhost).
  bool Add(const std::string& normalized, uint32_t vhost);
  // Serves hosts that match no name. Call at most once (compile enforces one default per
  // environment and takes the first environment's).
  void SetDefault(uint32_t vhost) { default_ = static_cast<int32_t>(vhost); }
  bool has_default() const { return default_ >= 0; }
  // Sorts the wildcards longest first; call once after the last Add.
  void Finish();

  // The vhost for a normalized Host (NormalizeHostHeader), or -1.
  int32_t Match(std::string_view host) const;

 private:
  absl::flat_hash_map<std::string, uint32_t> exact_;
  std::vector<std::pair<std::string, uint32_t>> wildcards_;  // the suffix with its dot: ".example.com"
  int32_t default_ = -1;
};

}  // namespace wsgate::engine::config

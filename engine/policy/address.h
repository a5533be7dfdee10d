// File: engine/policy/address.h
//
// IP addresses and ranges for access rules, and the client address behind trusted proxies.
// IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d), so a dual-stack listener's mapped peers and
// plain IPv4 rules compare alike: "10.0.0.0/8" is ::ffff:10.0.0.0/104 inside. Pure logic.
//
//   auto rules = IpRules::Compile({"10.0.0.0/8", "2001:db8::/32"}, {"10.9.0.0/16"});
//   rules->Allows(*IpAddress::Parse("10.1.2.3"));   // true
//   rules->Allows(*IpAddress::Parse("10.9.0.1"));   // false: deny beats allow
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace wsgate::engine::policy {

class IpAddress {
 public:
  // "192.0.2.1", "2001:db8::1", "[2001:db8::1]", "::ffff:192.0.2.1"; nullopt otherwise.
  static std::optional<IpAddress> Parse(std::string_view text);
  static IpAddress FromBytes(const std::array<uint8_t, 16>& bytes) { return IpAddress(bytes); }
  static IpAddress FromV4(uint32_t host_order);

  bool is_v4() const;  // an IPv4-mapped address
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  // "192.0.2.1" for IPv4 (mapped or not), "2001:db8::1" for IPv6.
  std::string ToString() const;
  bool operator==(const IpAddress& o) const { return bytes_ == o.bytes_; }

 private:
  explicit IpAddress(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}
  std::array<uint8_t, 16> bytes_{};
};

struct Cidr {
  IpAddress base = IpAddress::FromV4(0);  // host bits cleared
  uint8_t prefix = 128;                   // of the 128-bit form (an IPv4 /8 is 104)

  // "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (/32), "::1" (/128). Host bits set below the
  // prefix ("10.0.0.1/8") are refused: they are almost always a typo for something else.
  static absl::StatusOr<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& a) const;
  std::string ToString() const;
};

class IpRules {
 public:
  // Errors name the list and the entry ("deny[1]: '10.0.0.300' is not an address or CIDR").
  static absl::StatusOr<IpRules> Compile(const std::vector<std::string>& allow, const std::vector<std::string>& deny);
  // Deny beats allow; an empty allow list allows everything not denied.
  bool Allows(const IpAddress& a) const;
  bool empty() const { return allow_.empty() && deny_.empty(); }

 private:
  std::vector<Cidr> allow_, deny_;
};

absl::StatusOr<std::vector<Cidr>> ParseCidrList(const std::vector<std::string>& list, std::string_view name);

// The client's address: `peer` unless it is a trusted proxy; then X-Forwarded-For (every value of
// the header, comma-separated lists, in order) is walked from the right, skipping trusted proxies,
// and the first untrusted address is the client. When every hop is trusted the leftmost is; an
// entry that is not an address ends the walk at the last good hop (the one that appended it).
IpAddress ClientAddress(const IpAddress& peer, const std::vector<std::string_view>& forwarded_for,
                        const std::vector<Cidr>& trusted_proxies);

}  // namespace wsgate::engine::policy

// File: engine/policy/address.cc
#include "engine/policy/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::policy {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool IsTrusted(const IpAddress& a, const std::vector<Cidr>& trusted) {
  for (const Cidr& c : trusted)
    if (c.Contains(a)) return true;
  return false;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 16> bytes{};
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    memcpy(bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
    memcpy(bytes.data() + 12, &v4, 4);
    return IpAddress(bytes);
  }
  if (inet_pton(AF_INET6, buf, bytes.data()) == 1) return IpAddress(bytes);
  return std::nullopt;
}

IpAddress IpAddress::FromV4(uint32_t host_order) {
  std::array<uint8_t, 16> bytes{};
  memcpy(bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
  uint32_t net = htonl(host_order);
  memcpy(bytes.data() + 12, &net, 4);
  return IpAddress(bytes);
}

bool IpAddress::is_v4() const { return memcmp(bytes_.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0; }

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) return inet_ntop(AF_INET, bytes_.data() + 12, buf, sizeof(buf));
  return inet_ntop(AF_INET6, bytes_.data(), buf, sizeof(buf));
}

absl::StatusOr<Cidr> Cidr::Parse(std::string_view text) {
  std::string_view address = text, bits;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    bits = text.substr(slash + 1);
  }
  std::optional<IpAddress> a = IpAddress::Parse(address);
  if (!a) return absl::InvalidArgumentError(absl::StrCat("'", common::Sv(text), "' is not an address or CIDR"));
  // An IPv4 prefix (0-32) counts in the mapped form's low 32 bits.
  const int offset = a->is_v4() && address.find(':') == std::string_view::npos ? 96 : 0;
  int prefix = 128 - offset;
  if (!bits.empty() || address.size() != text.size()) {
    if (!absl::SimpleAtoi(common::Sv(bits), &prefix) || prefix < 0 || prefix > 128 - offset)
      return absl::InvalidArgumentError(
          absl::StrCat("'", common::Sv(text), "': the prefix length must be 0-", 128 - offset));
  }
  Cidr c;
  c.prefix = static_cast<uint8_t>(prefix + offset);
  std::array<uint8_t, 16> masked = a->bytes();
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(static_cast<int>(c.prefix) - 8 * i, 0, 8);
    masked[static_cast<size_t>(i)] &= keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  if (masked != a->bytes())
    return absl::InvalidArgumentError(absl::StrCat("'", common::Sv(text), "' has host bits set below /", prefix,
                                                   " (did you mean ", IpAddress::FromBytes(masked).ToString(), "/",
                                                   prefix, "?)"));
  c.base = *a;
  return c;
}

bool Cidr::Contains(const IpAddress& a) const {
  const auto& x = a.bytes();
  const auto& b = base.bytes();
  int full = prefix / 8, rest = prefix % 8;
  if (memcmp(x.data(), b.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (x[static_cast<size_t>(full)] & mask) == b[static_cast<size_t>(full)];
}

std::string Cidr::ToString() const {
  return absl::StrCat(base.ToString(), "/", base.is_v4() && prefix >= 96 ? prefix - 96 : prefix);
}

absl::StatusOr<std::vector<Cidr>> ParseCidrList(const std::vector<std::string>& list, std::string_view name) {
  std::vector<Cidr> out;
  for (size_t i = 0; i < list.size(); ++i) {
    absl::string_view entry = absl::StripAsciiWhitespace(list[i]);
    auto c = Cidr::Parse(std::string_view(entry.data(), entry.size()));
    if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat(common::Sv(name), "[", i, "]: ", c.status().message()));
    out.push_back(*c);
  }
  return out;
}

absl::StatusOr<IpRules> IpRules::Compile(const std::vector<std::string>& allow, const std::vector<std::string>& deny) {
  IpRules r;
  auto a = ParseCidrList(allow, "allow");
  if (!a.ok()) return a.status();
  auto d = ParseCidrList(deny, "deny");
  if (!d.ok()) return d.status();
  r.allow_ = *std::move(a);
  r.deny_ = *std::move(d);
  return r;
}

bool IpRules::Allows(const IpAddress& a) const {
  for (const Cidr& c : deny_)
    if (c.Contains(a)) return false;
  if (allow_.empty()) return true;
  for (const Cidr& c : allow_)
    if (c.Contains(a)) return true;
  return false;
}

IpAddress ClientAddress(const IpAddress& peer, const std::vector<std::string_view>& forwarded_for,
                        const std::vector<Cidr>& trusted_proxies) {
  if (!IsTrusted(peer, trusted_proxies)) return peer;
  std::vector<std::string_view> hops;
  for (std::string_view value : forwarded_for)
    for (absl::string_view hop : absl::StrSplit(common::Sv(value), ','))
      hops.emplace_back(hop.data(), hop.size());
  IpAddress client = peer;
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(absl::string_view(it->data(), it->size()));
    std::optional<IpAddress> hop = IpAddress::Parse(std::string_view(trimmed.data(), trimmed.size()));
    if (!hop) break;
    client = *hop;
    if (!IsTrusted(client, trusted_proxies)) break;
  }
  return client;
}

}  // namespace wsgate::engine::policy

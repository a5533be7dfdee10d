// File: tools/wsgatectl/commands/apikey.cc — `wsgatectl apikey create|list|revoke`: an
// application's API keys (issue 14 item 4, WSO2 4.3's API keys for WebSocket APIs). Clients send
// one as the `apikey` header or `?apikey=` to APIs created with `--security api_key` (or
// `oauth2,api_key`). create prints the key, the only time it is shown (the agent keeps its SHA-256).
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/table.h"
#include "tools/wsgatectl/text.h"

namespace wsgate::tools::ctl {
namespace {

// "never", "0", "-1" (WSO2's) → 0; "3600", "90s", "30m", "12h", "365d" → seconds.
absl::StatusOr<int64_t> ParseValidity(const std::string& text) {
  if (text.empty() || text == "never" || text == "0" || text == "-1") return 0;
  int64_t unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 's': unit = 1; digits.pop_back(); break;
    case 'm': unit = 60; digits.pop_back(); break;
    case 'h': unit = 3600; digits.pop_back(); break;
    case 'd': unit = 86400; digits.pop_back(); break;
    default: break;
  }
  int64_t n = 0;
  if (!absl::SimpleAtoi(digits, &n) || n <= 0 || n > int64_t{100} * 365 * 86400 / unit)
    return absl::InvalidArgumentError(absl::StrCat("--validity '", text,
                                                   "': give seconds or a duration (90s, 30m, 12h, 365d), or never"));
  return n * unit;
}

std::string ExpiryText(int64_t expires_unix_s) {
  return expires_unix_s == 0 ? "never"
                             : absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(expires_unix_s), absl::UTCTimeZone());
}

struct CreateFlags {
  std::string type = "PRODUCTION", validity;
  std::vector<std::string> apis, ips, origins;
  void Register(common::FlagParser& f) {
    f.AddString("type", &type, "PRODUCTION or SANDBOX: which endpoint the key's connections use", "TYPE");
    f.AddString("validity", &validity,
                "how long the key is valid: seconds or 90s, 30m, 12h, 365d; 'never', 0 or -1 (WSO2) = never expires "
                "(default never)",
                "DURATION");
    f.AddList("api", &apis, "restrict the key to this API (Name:Version or id); repeat for several (default: every API "
              "the application is subscribed to)", "API");
    f.AddList("ip", &ips, "restrict the key to client addresses in this CIDR (10.0.0.0/8, 2001:db8::/32, 192.0.2.7); "
              "repeat for several (default: any address)", "CIDR");
    f.AddList("origin", &origins, "restrict the key to this Origin (or Referer), e.g. https://app.example.com or "
              "https://*.example.com; repeat for several; a request without one is then refused (default: any)",
              "ORIGIN");
  }
};

absl::Status Create(Ctx& ctx, const CreateFlags& flags) {
  absl::StatusOr<v1::KeyType> type = ParseKeyType(flags.type);
  if (!type.ok()) return type.status();
  absl::StatusOr<int64_t> validity = ParseValidity(flags.validity);
  if (!validity.ok()) return validity.status();
  v1::CreateApiKeyRequest req;
  req.set_application(ctx.args[0]);
  req.set_key_type(*type);
  req.set_validity_s(*validity);
  for (const auto& a : flags.apis) req.add_apis(a);
  for (const auto& ip : flags.ips) req.add_ip_ranges(ip);
  for (const auto& o : flags.origins) req.add_origins(o);
  v1::ApiKeyInfo resp;
  if (absl::Status s = Call(ctx, &Stub::CreateApiKey, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("API key: ", resp.api_key(), "\nid ", resp.id(), "  ", v1::KeyType_Name(resp.key_type()),
                                "  expires ", ExpiryText(resp.expires_unix_s()),
                                "\nShown once: store it now. Send it as the header `apikey: KEY` or as ?apikey=KEY."));
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ListApiKeysRequest req;
  if (!ctx.args.empty()) req.set_application(ctx.args[0]);
  v1::ListApiKeysResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListApiKeys, req, resp); !s.ok()) return s;
  std::vector<std::vector<std::string>> rows;
  auto any = [](const auto& list) { return list.empty() ? std::string("any") : absl::StrJoin(list, ","); };
  for (const auto& k : resp.keys())
    rows.push_back({k.id(), k.application_name(), v1::KeyType_Name(k.key_type()), k.prefix() + "...",
                    ExpiryText(k.expires_unix_s()), any(k.apis()), any(k.ip_ranges()), any(k.origins())});
  std::string text = rows.empty() ? "No API keys (wsgatectl apikey create APP)"
                                  : Table({"ID", "APPLICATION", "TYPE", "KEY", "EXPIRES", "APIS", "IPS", "ORIGINS"}, rows);
  Print(ctx, resp, text);
  return absl::OkStatus();
}

absl::Status Revoke(Ctx& ctx) {
  v1::ApiKeyRef req;
  req.set_id(ctx.args[0]);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::RevokeApiKey, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Revoked API key ", ctx.args[0], " (its live connections are closed with 4001)"));
  return absl::OkStatus();
}

}  // namespace

void AddApiKeyCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand(
      "apikey create",
      "APP [--type PRODUCTION|SANDBOX] [--validity DURATION] [--api API]... [--ip CIDR]... [--origin ORIGIN]...",
      "create an API key for an application (shown once); clients send it as the `apikey` header or ?apikey= to "
      "APIs whose security includes api_key, and the application must be subscribed to the API",
      1, 1, &Create));
  commands.push_back(MakeCommand("apikey list", "[APP]",
                                 "list API keys (id, key type, prefix, expiry, restrictions; never the key)", 0, 1, &List));
  commands.push_back(MakeCommand("apikey revoke", "ID",
                                 "revoke an API key by its id: engines refuse it and close its sockets with 4001", 1, 1,
                                 &Revoke));
}

}  // namespace wsgate::tools::ctl

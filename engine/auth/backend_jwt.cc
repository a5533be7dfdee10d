// File: engine/auth/backend_jwt.cc
#include "engine/auth/backend_jwt.h"

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/base64.h"

namespace wsgate::engine::auth {
namespace {

using common::Sv;

// A JSON string literal of `v` (RFC 8259: quote, backslash and control characters escaped).
void AppendJsonString(std::string& out, std::string_view v) {
  out.push_back('"');
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out.append("\\u00").push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

void AppendClaim(std::string& out, std::string_view name, std::string_view value, bool wso2 = true) {
  if (out.size() > 1) out.push_back(',');  // after "{"
  AppendJsonString(out, wso2 ? absl::StrCat(Sv(kWso2Claims), Sv(name)) : std::string(name));
  out.push_back(':');
  AppendJsonString(out, value);
}

std::string ScopeText(const BackendClaims& c) {
  std::string out;
  if (c.scopes != nullptr)
    for (const std::string& s : *c.scopes) absl::StrAppend(&out, out.empty() ? "" : " ", s);
  return out;
}

}  // namespace

BackendClaims ClaimsFor(const config::Snapshot& snapshot, const config::Api& api, const Identity& identity,
                        const std::vector<std::string>& scopes) {
  BackendClaims c;
  c.issuer = snapshot.token_validation.issuer.empty() ? std::string_view("wsgate")
                                                      : std::string_view(snapshot.token_validation.issuer);
  if (const config::Application* app = snapshot.applications.Find(identity.application_id)) {
    c.application_id = app->id;
    c.application_name = app->name;
    c.application_tier = app->throttle_policy;
    c.subscriber = app->owner;
  }
  if (const config::Subscription* sub = snapshot.FindSubscription(identity.application_id, api.id)) c.tier = sub->plan;
  c.api_name = api.name;
  c.api_context = api.backend.api_context;
  c.api_version = api.version;
  c.key_type = v1::KeyType_Name(identity.key_type);
  c.scopes = &scopes;
  return c;
}

std::string BackendClaimsJson(const BackendClaims& c, int64_t iat, int64_t exp, std::string_view jti) {
  std::string out = "{";
  AppendClaim(out, "iss", c.issuer, false);
  absl::StrAppend(&out, ",\"iat\":", iat, ",\"exp\":", exp);
  AppendClaim(out, "jti", jti, false);
  AppendClaim(out, "subscriber", c.subscriber);
  AppendClaim(out, "applicationid", c.application_id);
  AppendClaim(out, "applicationname", c.application_name);
  if (!c.application_tier.empty()) AppendClaim(out, "applicationtier", c.application_tier);
  AppendClaim(out, "apiname", c.api_name);
  AppendClaim(out, "apicontext", c.api_context);
  AppendClaim(out, "version", c.api_version);
  AppendClaim(out, "tier", c.tier);
  AppendClaim(out, "keytype", c.key_type);
  AppendClaim(out, "usertype", "APPLICATION");  // client-credentials tokens: the application acts
  AppendClaim(out, "enduser", c.subscriber);
  AppendClaim(out, "scope", ScopeText(c), false);
  out.push_back('}');
  return out;
}

std::string SignBackendJwt(const config::BackendKey& key, std::string_view payload_json) {
  std::string header = R"({"typ":"JWT","alg":)";
  AppendJsonString(header, tls::JwsName(key.key->algorithm()));
  header.append(R"(,"kid":)");
  AppendJsonString(header, key.kid);
  header.push_back('}');
  std::string input = absl::StrCat(common::Base64UrlEncode(header), ".", common::Base64UrlEncode(payload_json));
  std::string signature = key.key->Sign(input);
  return absl::StrCat(input, ".", common::Base64UrlEncode(signature));
}

const std::string& BackendJwtCache::Get(const config::BackendKey& key, const BackendClaims& c, uint32_t validity_s,
                                        int64_t now_s) {
  std::string id = absl::StrCat(key.kid, "\n", validity_s, "\n", Sv(c.issuer), "\n", Sv(c.subscriber), "\n",
                                Sv(c.application_id), "\n", Sv(c.application_name), "\n", Sv(c.application_tier), "\n",
                                Sv(c.api_name), "\n", Sv(c.api_context), "\n", Sv(c.api_version), "\n", Sv(c.tier), "\n",
                                Sv(c.key_type), "\n", ScopeText(c));
  if (auto it = entries_.find(id); it != entries_.end() && now_s < it->second.reuse_until) return it->second.jwt;
  if (entries_.size() >= capacity_ && !entries_.contains(id)) {
    absl::erase_if(entries_, [now_s](const auto& e) { return e.second.reuse_until <= now_s; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  uint8_t nonce[16];
  tls::RandomBytes(nonce, sizeof(nonce));
  std::string jti;
  for (uint8_t b : nonce) absl::StrAppend(&jti, absl::Hex(b, absl::kZeroPad2));
  int64_t exp = now_s + validity_s;
  Entry& e = entries_[id];
  e.jwt = SignBackendJwt(key, BackendClaimsJson(c, now_s, exp, jti));
  e.reuse_until = now_s + validity_s * 3 / 4;
  ++signatures_;
  return e.jwt;
}

}  // namespace wsgate::engine::auth

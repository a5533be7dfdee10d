// File: tools/wsgatectl/commands/idp.cc — `wsgatectl idp create|get|list|update|delete`: external
// identity providers (WSO2 key managers: Keycloak, Auth0, WSO2 IS) whose JWKS the agent fetches
// and pushes, so engines accept their tokens (issue 14 item 6; admin only). `keys register`
// (keys.cc) maps a provider's client id to an application.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

struct SpecFlags {
  std::string issuer, jwks_url, client_id_claim, scope_claim;
  std::vector<std::string> audiences;
  bool clear_audiences = false;
  void Register(common::FlagParser& f) {
    f.AddString("issuer", &issuer, "the exact iss claim of the provider's tokens", "URL");
    f.AddString("jwks-url", &jwks_url, "its JWKS (https://, or http:// to a loopback host)", "URL");
    f.AddList("audience", &audiences, "an accepted aud (repeatable; none: aud is not checked)", "AUD");
    f.AddString("client-id-claim", &client_id_claim, "the claim naming the client (default azp, then client_id)",
                "CLAIM");
    f.AddString("scope-claim", &scope_claim, "the claim holding the scopes (default scope)", "CLAIM");
  }
  void Fill(v1::IdentityProviderSpec* spec) const {
    spec->set_issuer(issuer);
    spec->set_jwks_url(jwks_url);
    for (const auto& a : audiences) spec->add_audiences(a);
    spec->set_client_id_claim(client_id_claim);
    spec->set_scope_claim(scope_claim);
  }
};

struct UpdateFlags : SpecFlags {
  void Register(common::FlagParser& f) {
    SpecFlags::Register(f);
    f.AddBool("clear-audiences", &clear_audiences, "accept any aud again");
  }
};

std::string When(int64_t unix_ms) {
  return unix_ms == 0 ? "never" : absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

std::string InfoText(const v1::IdentityProviderInfo& p) {
  std::vector<std::string> keys;
  for (const auto& k : p.keys()) keys.push_back(absl::StrCat(k.kid(), " (", v1::SigningAlgorithm_Name(k.algorithm()), ")"));
  const v1::IdentityProviderSpec& s = p.spec();
  return absl::StrCat("Identity provider ", s.name(), "\n  issuer:          ", s.issuer(), "\n  jwks url:        ",
                      s.jwks_url(), "\n  audiences:       ", s.audiences().empty() ? "(any)" : absl::StrJoin(s.audiences(), ", "),
                      "\n  client id claim: ", s.client_id_claim(), "\n  scope claim:     ", s.scope_claim(),
                      "\n  keys:            ", keys.empty() ? "(none yet)" : absl::StrJoin(keys, ", "),
                      "\n  fetched:         ", When(p.fetched_unix_ms()),
                      p.last_error().empty() ? "" : absl::StrCat("\n  last error:      ", p.last_error()),
                      "\n  clients:         ", p.clients());
}

absl::Status Create(Ctx& ctx, const SpecFlags& flags) {
  if (flags.issuer.empty()) return absl::InvalidArgumentError("--issuer: required (the iss of the provider's tokens)");
  if (flags.jwks_url.empty()) return absl::InvalidArgumentError("--jwks-url: required (where its keys are published)");
  v1::IdentityProviderSpec req;
  flags.Fill(&req);
  req.set_name(ctx.args[0]);
  v1::IdentityProviderInfo resp;
  if (absl::Status s = Call(ctx, &Stub::CreateIdentityProvider, req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat(InfoText(resp), "\n(the agent fetches its keys in the background; `wsgatectl idp get ",
                                ctx.args[0], "` shows them)"));
  return absl::OkStatus();
}

absl::Status Get(Ctx& ctx) {
  v1::IdentityProviderRef req;
  req.set_name(ctx.args[0]);
  v1::IdentityProviderInfo resp;
  if (absl::Status s = Call(ctx, &Stub::GetIdentityProvider, req, resp); !s.ok()) return s;
  Print(ctx, resp, InfoText(resp));
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ListIdentityProvidersResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListIdentityProviders, v1::Empty(), resp); !s.ok()) return s;
  std::string text = resp.identity_providers().empty() ? "no identity providers" : "";
  for (const auto& p : resp.identity_providers())
    absl::StrAppend(&text, p.spec().name(), "\t", p.spec().issuer(), "\t", p.keys_size(), " keys\t",
                    p.last_error().empty() ? "ok" : p.last_error(), "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

absl::Status Update(Ctx& ctx, const UpdateFlags& flags) {
  v1::UpdateIdentityProviderRequest req;
  flags.Fill(req.mutable_spec());
  req.mutable_spec()->set_name(ctx.args[0]);
  if (!flags.issuer.empty()) req.add_update_fields("issuer");
  if (!flags.jwks_url.empty()) req.add_update_fields("jwks_url");
  if (!flags.audiences.empty() || flags.clear_audiences) req.add_update_fields("audiences");
  if (!flags.client_id_claim.empty()) req.add_update_fields("client_id_claim");
  if (!flags.scope_claim.empty()) req.add_update_fields("scope_claim");
  if (req.update_fields().empty())
    return absl::InvalidArgumentError(
        "nothing to update: give --issuer, --jwks-url, --audience, --clear-audiences, --client-id-claim or --scope-claim");
  v1::IdentityProviderInfo resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateIdentityProvider, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, InfoText(resp));
  return absl::OkStatus();
}

absl::Status Delete(Ctx& ctx) {
  v1::IdentityProviderRef req;
  req.set_name(ctx.args[0]);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteIdentityProvider, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Deleted identity provider ", ctx.args[0], " (its tokens are no longer accepted)"));
  return absl::OkStatus();
}

}  // namespace

void AddIdpCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("idp create", "NAME --issuer URL --jwks-url URL [--audience A]...",
                                 "an external identity provider whose tokens engines accept (admin)", 1, 1, &Create));
  commands.push_back(MakeCommand("idp get", "NAME", "a provider, its fetched keys and last fetch error (admin)", 1, 1, &Get));
  commands.push_back(MakeCommand("idp list", "", "identity providers (admin)", 0, 0, &List));
  commands.push_back(MakeCommand("idp update", "NAME [--issuer URL] [--jwks-url URL] [--audience A]...",
                                 "change a provider's given fields (admin)", 1, 1, &Update));
  commands.push_back(MakeCommand("idp delete", "NAME", "delete a provider without registered clients (admin)", 1, 1,
                                 &Delete));
}

}  // namespace wsgate::tools::ctl

// File: agent/catalog_idp.cc — external identity providers (issue 14 item 6, schema v10): their
// definitions, the last good JWKS key set agent/jwks_fetcher.h records, the client ids registered
// to applications, and their part of the snapshot.
#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "agent/jwks_schedule.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {
namespace {

bool ValidName(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

bool ValidClaim(const std::string& claim) {
  return !claim.empty() && claim.size() <= 128 &&
         std::none_of(claim.begin(), claim.end(), [](char c) { return c <= ' ' || c > '~' || c == '"' || c == '\\'; });
}

absl::Status NoIdp(const std::string& name) {
  return absl::NotFoundError(absl::StrCat("idp: no identity provider '", name, "' (see `wsgatectl idp list`)"));
}

// The keys column: a v1::IdentityProvider holding only `keys`.
v1::IdentityProvider ParseKeys(const std::string& blob) {
  v1::IdentityProvider p;
  p.ParseFromString(blob);
  return p;
}

}  // namespace

absl::Status Catalog::CheckIdpSpec(v1::IdentityProviderSpec& spec) {
  if (!ValidName(spec.name())) return Invalid("name", "1-64 characters from [A-Za-z0-9._-]");
  if (spec.issuer().empty()) return Invalid("issuer", "required (the exact `iss` of the provider's tokens)");
  if (spec.issuer() == options_.issuer)
    return Invalid("issuer", absl::StrCat("'", spec.issuer(), "' is this agent's own issuer"));
  WSGATE_RETURN_IF_ERROR(CheckJwksUrl(spec.jwks_url()));
  for (const std::string& a : spec.audiences())
    if (a.empty()) return Invalid("audiences", "an audience must not be empty");
  if (spec.client_id_claim().empty()) spec.set_client_id_claim("azp");
  if (spec.scope_claim().empty()) spec.set_scope_claim("scope");
  if (!ValidClaim(spec.client_id_claim())) return Invalid("client_id_claim", "a JSON member name without spaces or quotes");
  if (!ValidClaim(spec.scope_claim())) return Invalid("scope_claim", "a JSON member name without spaces or quotes");
  Statement taken = db_.Prepare("SELECT name FROM identity_providers WHERE issuer = ? AND name != ?");
  taken.Bind(1, spec.issuer()).Bind(2, spec.name());
  if (taken.Next())
    return absl::AlreadyExistsError(absl::StrCat("issuer: identity provider '", taken.Text(0), "' already has issuer '",
                                                 spec.issuer(), "'"));
  return absl::OkStatus();
}

absl::StatusOr<v1::IdentityProviderInfo> Catalog::LoadIdentityProvider(const std::string& name) {
  Statement st = db_.Prepare(
      "SELECT spec, keys, fetched_ms, last_error, next_fetch_ms, created_ms, "
      "(SELECT COUNT(*) FROM idp_clients c WHERE c.idp = p.name) FROM identity_providers p WHERE name = ?");
  st.Bind(1, name);
  if (!st.Next()) {
    WSGATE_RETURN_IF_ERROR(st.status());
    return NoIdp(name);
  }
  v1::IdentityProviderInfo info;
  info.mutable_spec()->ParseFromString(st.Text(0));
  v1::IdentityProvider stored = ParseKeys(st.Text(1));
  for (const v1::SigningKey& k : stored.keys()) {
    v1::IdpKey* out = info.add_keys();
    out->set_kid(k.kid());
    out->set_algorithm(k.algorithm());
  }
  info.set_fetched_unix_ms(st.Int(2));
  info.set_last_error(st.Text(3));
  info.set_next_fetch_unix_ms(st.Int(4));
  info.set_created_unix_ms(st.Int(5));
  info.set_clients(static_cast<uint32_t>(st.Int(6)));
  return info;
}

absl::StatusOr<v1::IdentityProviderInfo> Catalog::CreateIdentityProvider(v1::IdentityProviderSpec spec) {
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_RETURN_IF_ERROR(CheckIdpSpec(spec));
    absl::Status s = db_.Prepare("INSERT INTO identity_providers VALUES(?, ?, ?, ?, 0, '', 0, ?)")
                         .Bind(1, spec.name())
                         .Bind(2, spec.issuer())
                         .BindBlob(3, Serialize(spec))
                         .BindBlob(4, "")
                         .Bind(5, NowMs())
                         .Run();
    if (absl::IsAlreadyExists(s))
      return absl::AlreadyExistsError(absl::StrCat("name: an identity provider named '", spec.name(), "' already exists"));
    return s;
  }));
  return GetIdentityProvider(spec.name());
}

absl::StatusOr<v1::IdentityProviderInfo> Catalog::GetIdentityProvider(const std::string& name) {
  std::lock_guard lock(mu_);
  return LoadIdentityProvider(name);
}

absl::StatusOr<std::vector<v1::IdentityProviderInfo>> Catalog::ListIdentityProviders() {
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare("SELECT name FROM identity_providers ORDER BY name");
  WSGATE_ASSIGN_OR_RETURN(std::vector<std::string> names, Ids(st));
  return LoadEach<v1::IdentityProviderInfo>(names, [&](const std::string& n) { return LoadIdentityProvider(n); });
}

absl::StatusOr<v1::IdentityProviderInfo> Catalog::UpdateIdentityProvider(const v1::UpdateIdentityProviderRequest& req) {
  const std::string& name = req.spec().name();
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(v1::IdentityProviderInfo have, LoadIdentityProvider(name));
    v1::IdentityProviderSpec spec = have.spec();
    bool all = req.update_fields().empty();
    for (const std::string& f : req.update_fields())
      if (f != "issuer" && f != "jwks_url" && f != "audiences" && f != "client_id_claim" && f != "scope_claim")
        return Invalid("update_fields", absl::StrCat("unknown field '", f, "' (issuer, jwks_url, audiences, "
                                                     "client_id_claim, scope_claim)"));
    auto wants = [&](const char* f) {
      return all || std::find(req.update_fields().begin(), req.update_fields().end(), f) != req.update_fields().end();
    };
    if (wants("issuer")) spec.set_issuer(req.spec().issuer());
    if (wants("jwks_url")) spec.set_jwks_url(req.spec().jwks_url());
    if (wants("audiences")) *spec.mutable_audiences() = req.spec().audiences();
    if (wants("client_id_claim")) spec.set_client_id_claim(req.spec().client_id_claim());
    if (wants("scope_claim")) spec.set_scope_claim(req.spec().scope_claim());
    WSGATE_RETURN_IF_ERROR(CheckIdpSpec(spec));
    // A new JWKS URL is fetched at once (the fetcher sees the change); its keys replace the old.
    return db_.Prepare("UPDATE identity_providers SET issuer = ?, spec = ? WHERE name = ?")
        .Bind(1, spec.issuer())
        .BindBlob(2, Serialize(spec))
        .Bind(3, name)
        .Run();
  }));
  return GetIdentityProvider(name);
}

absl::Status Catalog::DeleteIdentityProvider(const std::string& name) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(v1::IdentityProviderInfo have, LoadIdentityProvider(name));
    if (have.clients() > 0)
      return absl::FailedPreconditionError(absl::StrCat("idp '", name, "' has ", have.clients(),
                                                        " registered client(s); unregister them first "
                                                        "(`wsgatectl keys unregister`)"));
    return db_.Prepare("DELETE FROM identity_providers WHERE name = ?").Bind(1, name).Run();
  });
}

absl::StatusOr<v1::IdpClient> Catalog::RegisterIdpClient(const v1::RegisterIdpClientRequest& req) {
  v1::IdpClient out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(v1::ApplicationInfo app, LoadApplication(req.application()));
    WSGATE_RETURN_IF_ERROR(LoadIdentityProvider(req.idp()).status());
    if (req.client_id().empty() || req.client_id().size() > 256)
      return Invalid("client_id", "required: the provider's client id (1-256 characters)");
    v1::KeyType type = req.key_type() == v1::KEY_TYPE_UNSPECIFIED ? v1::PRODUCTION : req.key_type();
    if (type != v1::PRODUCTION && type != v1::SANDBOX) return Invalid("key_type", "PRODUCTION or SANDBOX");
    out.set_idp(req.idp());
    out.set_client_id(req.client_id());
    out.set_application_id(app.id());
    out.set_application(app.name());
    out.set_key_type(type);
    out.set_created_unix_ms(NowMs());
    absl::Status s = db_.Prepare("INSERT INTO idp_clients VALUES(?, ?, ?, ?, ?)")
                         .Bind(1, req.idp())
                         .Bind(2, req.client_id())
                         .Bind(3, app.id())
                         .Bind(4, static_cast<int64_t>(type))
                         .Bind(5, out.created_unix_ms())
                         .Run();
    if (absl::IsAlreadyExists(s))
      return absl::AlreadyExistsError(
          absl::StrCat("client_id: '", req.client_id(), "' of idp '", req.idp(), "' is already registered"));
    return s;
  }));
  return out;
}

absl::Status Catalog::UnregisterIdpClient(const v1::UnregisterIdpClientRequest& req) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(v1::ApplicationInfo app, LoadApplication(req.application()));
    Statement del = db_.Prepare("DELETE FROM idp_clients WHERE idp = ? AND client_id = ? AND application_id = ?");
    del.Bind(1, req.idp()).Bind(2, req.client_id()).Bind(3, app.id());
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0)
      return absl::NotFoundError(absl::StrCat("client_id: '", req.client_id(), "' of idp '", req.idp(),
                                              "' is not registered to application '", app.name(), "'"));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::IdpClient>> Catalog::ListIdpClients(const std::string& application) {
  std::lock_guard lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(v1::ApplicationInfo app, LoadApplication(application));
  Statement st = db_.Prepare(
      "SELECT idp, client_id, key_type, created_ms FROM idp_clients WHERE application_id = ? ORDER BY idp, client_id");
  st.Bind(1, app.id());
  std::vector<v1::IdpClient> out;
  while (st.Next()) {
    v1::IdpClient& c = out.emplace_back();
    c.set_idp(st.Text(0));
    c.set_client_id(st.Text(1));
    c.set_application_id(app.id());
    c.set_application(app.name());
    c.set_key_type(static_cast<v1::KeyType>(st.Int(2)));
    c.set_created_unix_ms(st.Int(3));
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Catalog::IdpFetchTargets() {
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare("SELECT name, spec FROM identity_providers ORDER BY name");
  std::vector<std::pair<std::string, std::string>> out;
  while (st.Next()) {
    v1::IdentityProviderSpec spec;
    spec.ParseFromString(st.Text(1));
    out.emplace_back(st.Text(0), spec.jwks_url());
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

absl::Status Catalog::RecordIdpFetch(const std::string& name, const std::string& jwks_url,
                                     const std::vector<v1::SigningKey>* keys, const std::string& error,
                                     int64_t next_fetch_ms) {
  v1::IdentityProvider fresh;
  if (keys != nullptr)
    for (const v1::SigningKey& k : *keys) *fresh.add_keys() = k;
  std::string blob = Serialize(fresh);
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    Statement st = db_.Prepare("SELECT spec, keys FROM identity_providers WHERE name = ?");
    st.Bind(1, name);
    if (!st.Next()) return st.status();  // deleted meanwhile
    v1::IdentityProviderSpec spec;
    spec.ParseFromString(st.Text(0));
    if (spec.jwks_url() != jwks_url) return absl::OkStatus();  // an old URL's answer
    changed = keys != nullptr && blob != st.Text(1);
  }
  // Only the fetcher writes keys, so nothing changes them between the read and this write.
  if (keys == nullptr)
    return Mutate(false, [&] {
      return db_.Prepare("UPDATE identity_providers SET last_error = ?, next_fetch_ms = ? WHERE name = ?")
        .Bind(1, error)
        .Bind(2, next_fetch_ms)
        .Bind(3, name)
        .Run();
    });
  return Mutate(changed, [&] {
    return db_.Prepare("UPDATE identity_providers SET keys = ?, fetched_ms = ?, last_error = '', next_fetch_ms = ? "
                       "WHERE name = ?")
        .BindBlob(1, blob)
        .Bind(2, NowMs())
        .Bind(3, next_fetch_ms)
        .Bind(4, name)
        .Run();
  });
}

absl::Status Catalog::ApplyIdentityProviders(const v1::CatalogDocument& doc, bool prune, v1::ApplyCatalogResponse& resp) {
  auto change = [&](const std::string& name, const char* action) {
    v1::CatalogChange* c = resp.add_changes();
    c->set_kind("identity_provider");
    c->set_name(name);
    c->set_action(action);
  };
  std::set<std::string> declared;
  for (int i = 0; i < doc.identity_providers_size(); ++i) {
    v1::IdentityProviderSpec want = doc.identity_providers(i);
    std::string path = absl::StrCat("identity_providers[", i, "]");
    if (!declared.insert(want.name()).second)
      return Invalid(path + ".name", absl::StrCat("'", want.name(), "' is declared twice"));
    absl::Status checked = CheckIdpSpec(want);
    if (!checked.ok()) return absl::Status(checked.code(), absl::StrCat(path, ".", checked.message()));
    absl::StatusOr<v1::IdentityProviderInfo> have = LoadIdentityProvider(want.name());
    if (!have.ok()) {
      if (!absl::IsNotFound(have.status())) return have.status();
      WSGATE_RETURN_IF_ERROR(CreateIdentityProvider(want).status());
      change(want.name(), "create");
    } else if (have->spec().SerializeAsString() != want.SerializeAsString()) {
      v1::UpdateIdentityProviderRequest update;
      *update.mutable_spec() = want;
      WSGATE_RETURN_IF_ERROR(UpdateIdentityProvider(update).status());
      change(want.name(), "update");
    }
  }
  if (!prune) return absl::OkStatus();
  WSGATE_ASSIGN_OR_RETURN(std::vector<v1::IdentityProviderInfo> all, ListIdentityProviders());
  for (const auto& p : all) {
    if (declared.count(p.spec().name())) continue;
    absl::Status s = DeleteIdentityProvider(p.spec().name());
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("prune identity_provider ", p.spec().name(), ": ", s.message()));
    change(p.spec().name(), "delete");
  }
  return absl::OkStatus();
}

absl::Status Catalog::AddIdentityProvidersToSnapshot(v1::Snapshot& s) {
  Statement st = db_.Prepare("SELECT name, spec, keys FROM identity_providers ORDER BY name");
  while (st.Next()) {
    v1::IdentityProviderSpec spec;
    spec.ParseFromString(st.Text(1));
    v1::IdentityProvider* p = s.add_identity_providers();
    *p->mutable_keys() = ParseKeys(st.Text(2)).keys();
    p->set_name(spec.name());
    p->set_issuer(spec.issuer());
    *p->mutable_audiences() = spec.audiences();
    p->set_client_id_claim(spec.client_id_claim());
    p->set_scope_claim(spec.scope_claim());
    Statement clients = db_.Prepare("SELECT client_id, application_id, key_type FROM idp_clients WHERE idp = ? ORDER BY client_id");
    clients.Bind(1, spec.name());
    while (clients.Next()) {
      v1::ConsumerKey* c = p->add_clients();
      c->set_client_id(clients.Text(0));
      c->set_application_id(clients.Text(1));
      c->set_key_type(static_cast<v1::KeyType>(clients.Int(2)));
    }
    WSGATE_RETURN_IF_ERROR(clients.status());
  }
  return st.status();
}

}  // namespace wsgate::agent

// File: engine/config/idp.cc
#include "engine/config/idp.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/config/credentials.h"

namespace wsgate::engine::config {
namespace {

absl::Status FieldError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

}  // namespace

absl::Status CompileIdentityProviders(const v1::Snapshot& in, Snapshot* out) {
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < in.identity_providers_size(); ++i) {
    const v1::IdentityProvider& p = in.identity_providers(i);
    std::string path = absl::StrCat("identity_providers[", i, "]");
    if (p.name().empty()) return FieldError(path + ".name", "must not be empty");
    if (!names.insert(p.name()).second) return FieldError(path + ".name", absl::StrCat("duplicate name '", p.name(), "'"));
    if (p.issuer().empty()) return FieldError(path + ".issuer", "must not be empty");
    if (p.issuer() == in.token_validation().issuer())
      return FieldError(path + ".issuer", "is the agent's own issuer");
    auto [it, fresh] = out->identity_providers.try_emplace(p.issuer());
    if (!fresh) return FieldError(path + ".issuer", absl::StrCat("duplicate issuer '", p.issuer(), "'"));
    IdentityProvider& idp = it->second;
    idp.name = p.name();
    idp.issuer = p.issuer();
    idp.audiences.assign(p.audiences().begin(), p.audiences().end());
    if (!p.client_id_claim().empty()) idp.client_id_claim = p.client_id_claim();
    if (!p.scope_claim().empty()) idp.scope_claim = p.scope_claim();
    for (int j = 0; j < p.keys_size(); ++j) {
      std::string key_path = absl::StrCat(path, ".keys[", j, "]");
      WSGATE_ASSIGN_OR_RETURN(SigningKey key, CompileSigningKey(key_path, p.keys(j)));
      if (!idp.signing_keys.try_emplace(key.kid, std::move(key)).second)
        return FieldError(key_path + ".kid", absl::StrCat("duplicate kid '", p.keys(j).kid(), "'"));
    }
    for (int j = 0; j < p.clients_size(); ++j) {
      const v1::ConsumerKey& c = p.clients(j);
      std::string client_path = absl::StrCat(path, ".clients[", j, "]");
      if (c.client_id().empty()) return FieldError(client_path + ".client_id", "must not be empty");
      if (!out->applications.contains(c.application_id()))
        return FieldError(client_path + ".application_id", absl::StrCat("unknown application '", c.application_id(), "'"));
      ConsumerKey key{c.client_id(), c.application_id(), c.key_type() == v1::SANDBOX ? v1::SANDBOX : v1::PRODUCTION};
      if (!idp.clients.try_emplace(c.client_id(), std::move(key)).second)
        return FieldError(client_path + ".client_id", absl::StrCat("duplicate client id '", c.client_id(), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace wsgate::engine::config

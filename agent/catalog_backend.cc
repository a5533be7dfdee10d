// File: agent/catalog_backend.cc — the Catalog's backend-signing keys (issue 14 item 7, schema
// v11): the key engines sign backend JWTs (WSO2's X-JWT-Assertion) with, ES256 by default, made
// with OpenSSL here and pushed to engines as Snapshot.backend_signing_key (the control socket is
// 0600). Its public half, and a rotated-out one for as long as a JWT it signed can be valid, are
// in /.well-known/jwks.json so backends can verify.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "agent/signer.h"
#include "engine/common/status_macros.h"
#include "engine/http/forward.h"

namespace wsgate::agent {

using namespace catalog_internal;  // NOLINT(build/namespaces): the catalog's own helpers

namespace {


// A retired key stays published until the last JWT it signed has expired (the longest validity
// an API may set, plus a minute of clock skew).
constexpr int64_t kRetireAfterS = engine::http::kMaxJwtValidityS + 60;

}  // namespace

absl::Status Catalog::InsertBackendKey(v1::SigningAlgorithm alg) {
  WSGATE_ASSIGN_OR_RETURN(auto key, SigningKey::Generate(alg, "backend-" + RandomHex(8)));
  WSGATE_RETURN_IF_ERROR(db_.Prepare("UPDATE backend_keys SET active = 0, retire_after_s = ? WHERE active = 1")
                             .Bind(1, NowS() + kRetireAfterS)
                             .Run());
  return db_.Prepare("INSERT INTO backend_keys VALUES(?, ?, ?, ?, 1, ?, 0)")
      .Bind(1, key->kid())
      .Bind(2, static_cast<int64_t>(alg))
      .Bind(3, key->PrivatePem())
      .Bind(4, key->PublicPem())
      .Bind(5, NowMs())
      .Run();
}

absl::Status Catalog::MigrateBackendKeys(const char* schema_v11) {
  WSGATE_RETURN_IF_ERROR(db_.Exec(schema_v11));
  Statement has = db_.Prepare("SELECT COUNT(*) FROM backend_keys WHERE active = 1");
  if (has.Next() && has.Int(0) > 0) return absl::OkStatus();
  return InsertBackendKey(v1::ES256);
}

absl::StatusOr<v1::SigningKeyInfo> Catalog::RotateBackendKey(v1::SigningAlgorithm alg) {
  if (alg == v1::SIGNING_ALGORITHM_UNSPECIFIED) alg = v1::ES256;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() { return InsertBackendKey(alg); }));
  WSGATE_ASSIGN_OR_RETURN(std::vector<v1::SigningKeyInfo> keys, ListBackendKeys());
  for (const auto& k : keys)
    if (k.active()) return k;
  return absl::InternalError("no active backend-signing key after rotation");
}

absl::StatusOr<std::vector<v1::SigningKeyInfo>> Catalog::ListBackendKeys() {
  std::lock_guard lock(mu_);
  std::vector<v1::SigningKeyInfo> out;
  Statement st = db_.Prepare(
      "SELECT kid, algorithm, public_pem, active, created_ms, retire_after_s FROM backend_keys "
      "WHERE active = 1 OR retire_after_s > ? ORDER BY created_ms");
  st.Bind(1, NowS());
  while (st.Next()) {
    out.push_back(SigningKeyRow(st));
    out.back().set_backend(true);
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

absl::Status Catalog::AddBackendJwks(Json& keys) {
  Statement st = db_.Prepare(
      "SELECT kid, algorithm, private_pem FROM backend_keys WHERE active = 1 OR retire_after_s > ? ORDER BY created_ms");
  st.Bind(1, NowS());
  while (st.Next()) {
    WSGATE_ASSIGN_OR_RETURN(auto key, SigningKey::FromPrivatePem(static_cast<v1::SigningAlgorithm>(st.Int(1)),
                                                                 st.Text(0), st.Text(2)));
    keys.push_back(key->Jwk());
  }
  return st.status();
}

// Only engines that sign need the private key: pushed when a deployed API sends backend JWTs.
absl::Status Catalog::AddBackendKeyToSnapshot(v1::Snapshot& s) {
  if (std::none_of(s.apis().begin(), s.apis().end(), [](const v1::Api& a) { return a.backend().jwt(); }))
    return absl::OkStatus();
  Statement st = db_.Prepare("SELECT kid, algorithm, private_pem FROM backend_keys WHERE active = 1");
  if (st.Next()) {
    v1::BackendSigningKey* k = s.mutable_backend_signing_key();
    k->set_kid(st.Text(0));
    k->set_algorithm(static_cast<v1::SigningAlgorithm>(st.Int(1)));
    k->set_private_key_pem(st.Text(2));
  }
  return st.status();
}

}  // namespace wsgate::agent

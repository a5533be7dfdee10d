// File: agent/catalog_api_keys.cc — the Catalog's API keys (issue 14 item 4, WSO2 4.3 API keys
// for WebSocket APIs; schema v9, table api_keys).
//
// A key is "wsk_" and 32 random bytes in hex (256 bits). The agent returns its text once, from
// CreateApiKey, and keeps only its SHA-256 plus the first characters (`prefix`, to recognise it
// in lists). Keys are pushed to engines as Snapshot.api_keys (hash, application, key type, expiry,
// restrictions), so creating or revoking one is a data-plane change: an engine refuses a key that
// is no longer listed and closes its live sockets with 4001. Expired keys stay listed (marked by
// their expiry) until revoked, but are no longer pushed.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "engine/common/status_macros.h"
#include "engine/policy/address.h"
#include "engine/policy/origin.h"

namespace wsgate::agent {
namespace {

constexpr const char* kKeyPrefix = "wsk_";
constexpr size_t kShownPrefix = 12;  // "wsk_" and 8 hex digits

std::vector<std::string> Words(const std::string& text) {
  return absl::StrSplit(text, ' ', absl::SkipEmpty());
}

}  // namespace

absl::StatusOr<v1::ApiKeyInfo> Catalog::CreateApiKey(const v1::CreateApiKeyRequest& req) {
  v1::KeyType type = req.key_type() == v1::KEY_TYPE_UNSPECIFIED ? v1::PRODUCTION : req.key_type();
  if (type != v1::PRODUCTION && type != v1::SANDBOX)
    return Invalid("key_type", absl::StrCat("unknown key type ", static_cast<int>(type), " (PRODUCTION or SANDBOX)"));
  if (req.validity_s() < -1)
    return Invalid("validity", absl::StrCat(req.validity_s(), " s: give a positive number of seconds, or 0 (never expires)"));
  std::vector<std::string> ips(req.ip_ranges().begin(), req.ip_ranges().end());
  if (auto cidrs = engine::policy::ParseCidrList(ips, "ip_ranges"); !cidrs.ok()) return cidrs.status();
  std::vector<std::string> origins(req.origins().begin(), req.origins().end());
  if (auto o = engine::policy::OriginRules::Compile(origins, false); !o.ok()) return o.status();
  for (const std::vector<std::string>* list : {&ips, &origins})
    for (const std::string& entry : *list)
      if (entry.empty() || entry.find(' ') != std::string::npos)
        return Invalid(list == &ips ? "ip_ranges" : "origins", absl::StrCat("'", entry, "': must be one word"));

  v1::ApiKeyInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto app, LoadApplication(req.application()));
    std::vector<std::string> api_ids;
    for (const std::string& ref : req.apis()) {
      WSGATE_ASSIGN_OR_RETURN(ApiRow api, LoadApi(ref));
      if (std::find(api_ids.begin(), api_ids.end(), api.id) == api_ids.end()) api_ids.push_back(api.id);
    }
    std::string key = absl::StrCat(kKeyPrefix, RandomHex(32));
    int64_t now_ms = NowMs();
    int64_t expires = req.validity_s() > 0 ? now_ms / 1000 + req.validity_s() : 0;
    std::string id = NewId();
    WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO api_keys VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                               .Bind(1, id)
                               .Bind(2, app.id())
                               .Bind(3, static_cast<int64_t>(type))
                               .BindBlob(4, Sha256(key))
                               .Bind(5, key.substr(0, kShownPrefix))
                               .Bind(6, absl::StrJoin(api_ids, " "))
                               .Bind(7, absl::StrJoin(ips, " "))
                               .Bind(8, absl::StrJoin(origins, " "))
                               .Bind(9, now_ms)
                               .Bind(10, expires)
                               .Run());
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::ApiKeyInfo> infos, LoadApiKeys("k.id = ?", id));
    if (infos.empty()) return absl::InternalError("api key: not found after insert");
    out = std::move(infos[0]);
    out.set_api_key(key);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::ApiKeyInfo>> Catalog::LoadApiKeys(const std::string& where, const std::string& arg) {
  Statement st = db_.Prepare(absl::StrCat(
      "SELECT k.id, k.application_id, a.name, k.key_type, k.prefix, k.apis, k.ip_ranges, k.origins, k.created_ms, "
      "k.expires_s FROM api_keys k JOIN applications a ON a.id = k.application_id WHERE ",
      where, " ORDER BY a.name, k.created_ms, k.rowid"));  // rowid: creation order within a millisecond
  if (!arg.empty()) st.Bind(1, arg);
  std::vector<v1::ApiKeyInfo> out;
  while (st.Next()) {
    v1::ApiKeyInfo k;
    k.set_id(st.Text(0));
    k.set_application_id(st.Text(1));
    k.set_application_name(st.Text(2));
    k.set_key_type(static_cast<v1::KeyType>(st.Int(3)));
    k.set_prefix(st.Text(4));
    for (const std::string& api_id : Words(st.Text(5))) {
      absl::StatusOr<ApiRow> api = LoadApi(api_id);  // a deleted API shows as its id
      k.add_apis(api.ok() ? ApiRefText(api->spec) : api_id);
    }
    for (std::string& ip : Words(st.Text(6))) k.add_ip_ranges(std::move(ip));
    for (std::string& origin : Words(st.Text(7))) k.add_origins(std::move(origin));
    k.set_created_unix_ms(st.Int(8));
    k.set_expires_unix_s(st.Int(9));
    out.push_back(std::move(k));
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

absl::StatusOr<std::vector<v1::ApiKeyInfo>> Catalog::ListApiKeys(const std::string& application) {
  std::lock_guard lock(mu_);
  if (application.empty()) return LoadApiKeys("1 = 1", "");
  WSGATE_ASSIGN_OR_RETURN(auto app, LoadApplication(application));
  return LoadApiKeys("k.application_id = ?", app.id());
}

absl::Status Catalog::RevokeApiKey(const std::string& id) {
  if (id.empty()) return Invalid("id", "give the API key's id (see `wsgatectl apikey list`)");
  return Mutate(true, [&]() -> absl::Status {
    Statement del = db_.Prepare("DELETE FROM api_keys WHERE id = ?");
    del.Bind(1, id);
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0)
      return absl::NotFoundError(absl::StrCat("api key: no API key '", id, "' (see `wsgatectl apikey list`)"));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> Catalog::ApiKeyOwner(const std::string& id) {
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare("SELECT a.owner FROM api_keys k JOIN applications a ON a.id = k.application_id WHERE k.id = ?");
  st.Bind(1, id);
  if (st.Next()) return st.Text(0);
  WSGATE_RETURN_IF_ERROR(st.status());
  return absl::NotFoundError(absl::StrCat("api key: no API key '", id, "' (see `wsgatectl apikey list`)"));
}

absl::Status Catalog::AddApiKeysToSnapshot(int64_t now_s, v1::Snapshot& s) {
  Statement st = db_.Prepare(
      "SELECT sha256, id, application_id, key_type, expires_s, apis, ip_ranges, origins FROM api_keys "
      "WHERE expires_s = 0 OR expires_s > ?");
  st.Bind(1, now_s);
  while (st.Next()) {
    v1::ApiKey* k = s.add_api_keys();
    k->set_sha256(st.Text(0));
    k->set_id(st.Text(1));
    k->set_application_id(st.Text(2));
    k->set_key_type(static_cast<v1::KeyType>(st.Int(3)));
    k->set_expires_unix_s(st.Int(4));
    for (std::string& api : Words(st.Text(5))) k->add_apis(std::move(api));
    for (std::string& ip : Words(st.Text(6))) k->add_ip_ranges(std::move(ip));
    for (std::string& origin : Words(st.Text(7))) k->add_origins(std::move(origin));
  }
  return st.status();
}

}  // namespace wsgate::agent

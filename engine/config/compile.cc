// File: engine/config/compile.cc
#include "engine/config/compile.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/absl_compat.h"
#include "engine/config/admission_settings.h"
#include "engine/config/api_keys.h"
#include "engine/common/status_macros.h"
#include "engine/config/access.h"
#include "engine/config/credentials.h"
#include "engine/config/idp.h"
#include "engine/config/settings.h"
#include "engine/http/forward.h"

namespace wsgate::engine::config {
namespace {

using common::Sv;

absl::Status FieldError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}


// Match order: more literal segments first, then more segments, wildcards last.
bool MoreSpecific(const Topic& a, const Topic& b) {
  if (a.wildcard != b.wildcard) return !a.wildcard;
  auto literals = [](const Topic& t) {
    return std::count_if(t.segments.begin(), t.segments.end(), [](const TopicSegment& s) { return !s.is_param; });
  };
  if (literals(a) != literals(b)) return literals(a) > literals(b);
  return a.segments.size() > b.segments.size();
}

absl::Status CheckMapping(const std::string& path, const Topic& topic) {
  absl::Status s = CheckUrlMapping(topic);
  return s.ok() ? s : FieldError(path, s.message());
}

// Issue 14 item 7: an API's backend identity (http/forward.h has the rules the agent checks too).
absl::Status CompileBackend(const v1::BackendIdentity& in, const std::string& path, BackendIdentity* out) {
  std::vector<std::string> pass(in.pass_headers().begin(), in.pass_headers().end());
  std::string error = http::CheckBackendIdentity(in.jwt(), in.jwt_header(), in.jwt_validity_s(), pass);
  if (!error.empty()) return FieldError(path + "." + error.substr(0, error.find(':')), error.substr(error.find(':') + 2));
  out->jwt = in.jwt();
  out->jwt_header = in.jwt_header().empty() ? std::string(http::kDefaultJwtHeader) : in.jwt_header();
  out->jwt_header_lower = absl::AsciiStrToLower(out->jwt_header);
  out->jwt_validity_s = in.jwt_validity_s() == 0 ? http::kDefaultJwtValidityS : in.jwt_validity_s();
  for (std::string& name : pass) out->pass_headers.push_back(absl::AsciiStrToLower(name));
  return absl::OkStatus();
}

absl::Status CompileBackendKey(const v1::BackendSigningKey& in, Snapshot* out) {
  if (in.private_key_pem().empty()) return absl::OkStatus();
  tls::SignatureAlgorithm alg = tls::SignatureAlgorithm::kEs256;
  if (in.algorithm() == v1::RS256) alg = tls::SignatureAlgorithm::kRs256;
  if (in.algorithm() == v1::EDDSA) alg = tls::SignatureAlgorithm::kEdDsa;
  if (in.kid().empty()) return FieldError("backend_signing_key.kid", "must not be empty");
  auto key = tls::PrivateKey::FromPem(alg, in.private_key_pem());
  if (!key.ok()) return FieldError("backend_signing_key.private_key_pem", key.status().message());
  out->backend_key = std::make_shared<const BackendKey>(BackendKey{in.kid(), *std::move(key)});
  return absl::OkStatus();
}

absl::StatusOr<Endpoint> CompileEndpoint(const std::string& path, const v1::Endpoint& in, const Resolver& resolver) {
  Endpoint ep;
  if (absl::Status s = ParseEndpointUrl(in.url(), &ep); !s.ok()) return FieldError(path + ".url", s.message());
  ep.insecure_skip_verify = in.insecure_skip_verify();
  ep.ca_file = in.ca_file();
  if (ep.tls) {
    auto ctx = tls::ClientTlsContext::Create(ep.ca_file, ep.insecure_skip_verify);
    if (!ctx.ok()) return FieldError(path + ".ca_file", ctx.status().message());
    ep.tls_context = *std::move(ctx);
  } else if (ep.insecure_skip_verify || !ep.ca_file.empty()) {
    return FieldError(path, "ca_file and insecure_skip_verify apply to wss:// endpoints only");
  }
  WSGATE_RETURN_IF_ERROR(CheckConnectTimeoutMs(path + ".connect_timeout_ms", in.connect_timeout_ms()));
  ep.connect_timeout_ms = in.connect_timeout_ms();
  auto addresses = resolver(ep.host, ep.port);
  if (addresses.ok() && !addresses->empty()) {
    ep.addresses = *std::move(addresses);
  } else {
    // Not fatal: the API stays routable and its handshakes answer 502 with this reason, so one
    // backend's DNS outage does not block a whole push.
    ep.resolve_error = addresses.ok() ? "no addresses" : std::string(addresses.status().message());
  }
  return ep;
}

// Every vhost's names and aliases, normalized and checked, into the Host → vhost index; at most
// one default vhost per environment (the first environment's default serves unmatched hosts).
absl::Status CompileVhosts(const v1::Snapshot& in, Snapshot* out, absl::flat_hash_map<std::string, uint32_t>* by_name,
                           std::vector<std::vector<std::string>>* hosts) {
  absl::flat_hash_map<std::string, std::string> default_of_env;
  absl::flat_hash_map<std::string, std::string> owner;  // normalized host → the vhost naming it
  out->routes.resize(static_cast<size_t>(in.vhosts_size()));
  hosts->resize(static_cast<size_t>(in.vhosts_size()));
  for (int i = 0; i < in.vhosts_size(); ++i) {
    const auto& v = in.vhosts(i);
    std::string path = absl::StrCat("vhosts[", i, "]");
    if (v.name().empty()) return FieldError(path + ".name", "must not be empty");
    if (!by_name->emplace(v.name(), static_cast<uint32_t>(i)).second)
      return FieldError(path + ".name", absl::StrCat("duplicate vhost '", v.name(), "'"));
    for (int k = -1; k < v.aliases_size(); ++k) {
      std::string field = k < 0 ? path + ".name" : absl::StrCat(path, ".aliases[", k, "]");
      auto name = NormalizeVhostName(k < 0 ? v.name() : v.aliases(k));
      if (!name.ok()) return FieldError(field, name.status().message());
      if (!out->vhost_index.Add(*name, static_cast<uint32_t>(i)))
        return FieldError(field, absl::StrCat("'", *name, "' already selects vhost '", owner[*name], "'"));
      owner[*name] = v.name();
      (*hosts)[i].push_back(*std::move(name));
    }
    if (!v.is_default()) continue;
    auto [it, fresh] = default_of_env.emplace(v.environment(), v.name());
    if (!fresh)
      return FieldError(path + ".is_default", absl::StrCat("environment '", v.environment(), "' already has the default vhost '",
                                                          it->second, "' (at most one per environment)"));
    if (!out->vhost_index.has_default()) out->vhost_index.SetDefault(static_cast<uint32_t>(i));
  }
  out->vhost_index.Finish();
  return absl::OkStatus();
}

}  // namespace

Resolver SystemResolver() {
  return [](const std::string& host, uint16_t port) -> absl::StatusOr<std::vector<sockaddr_storage>> {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    addrinfo* res = nullptr;
    std::string port_text = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
    if (rc != 0) return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
    std::vector<sockaddr_storage> out;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      sockaddr_storage ss{};
      std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
      out.push_back(ss);
    }
    freeaddrinfo(res);
    return out;
  };
}

namespace {

// The distinct environments of the vhosts `a` is deployed to, sorted, joined with ','.
std::string EnvironmentsOf(const v1::Snapshot& in, const v1::Api& a) {
  std::vector<std::string> envs;
  for (const auto& v : in.vhosts()) {
    if (v.environment().empty()) continue;
    if (std::find(a.vhosts().begin(), a.vhosts().end(), v.name()) == a.vhosts().end()) continue;
    if (std::find(envs.begin(), envs.end(), v.environment()) == envs.end()) envs.push_back(v.environment());
  }
  std::sort(envs.begin(), envs.end());
  return absl::StrJoin(envs, ",");
}

absl::StatusOr<std::shared_ptr<Snapshot>> CompileMutable(const v1::Snapshot& in, const Resolver& resolver,
                                                         const TlsDefaults& tls_defaults) {
  auto out = std::make_shared<Snapshot>();
  out->version = in.version();
  out->agent_id = in.agent_id();

  // Settings (0 = default), checked against their ranges (settings.h); access and admission.
  const v1::EngineSettings& st = in.settings();
  Settings& s = out->settings;
  WSGATE_RETURN_IF_ERROR(CompileSettings(st, &s));
  {
    std::optional<policy::OriginRules> origins;
    WSGATE_RETURN_IF_ERROR(CompileAccess(st.access(), "settings.access", &origins, &s.ip));
    if (origins) s.origins = *std::move(origins);
    std::vector<std::string> proxies(st.trusted_proxies().begin(), st.trusted_proxies().end());
    auto trusted = policy::ParseCidrList(proxies, "settings.trusted_proxies");
    if (!trusted.ok()) return trusted.status();
    s.trusted_proxies = *std::move(trusted);
  }
  WSGATE_RETURN_IF_ERROR(CompileAdmissionSettings(st, &s));

  out->token_validation.issuer = in.token_validation().issuer();
  out->token_validation.audiences.assign(in.token_validation().audiences().begin(),
                                         in.token_validation().audiences().end());
  if (in.token_validation().clock_skew_s()) out->token_validation.clock_skew_s = in.token_validation().clock_skew_s();

  // Vhosts: name → its position (the route table) and the host names that select it.
  absl::flat_hash_map<std::string, uint32_t> vhost_by_name;
  std::vector<std::vector<std::string>> vhost_hosts;
  std::vector<tls::CertSpec> certs;
  if (!tls_defaults.cert_file.empty()) certs.push_back({"", tls_defaults.cert_file, tls_defaults.key_file});
  WSGATE_RETURN_IF_ERROR(CompileVhosts(in, out.get(), &vhost_by_name, &vhost_hosts));
  for (int i = 0; i < in.vhosts_size(); ++i) {
    const auto& v = in.vhosts(i);
    const v1::TlsCertificate& t = v.tls();
    std::string path = absl::StrCat("vhosts[", i, "].tls");
    bool pem = !t.cert_pem().empty() || !t.key_pem().empty();
    if (pem && (t.cert_pem().empty() || t.key_pem().empty())) return FieldError(path, "needs both cert_pem and key_pem");
    if (!pem && t.cert_file().empty() != t.key_file().empty())
      return FieldError(path, "needs both cert_file and key_file");
    if (!pem && t.cert_file().empty()) continue;
    // Without an engine certificate, the default vhost's is served to clients whose SNI matches
    // no name (or who send none).
    size_t at = tls_defaults.cert_file.empty() && v.is_default() ? 0 : certs.size();
    for (const auto& host : vhost_hosts[i]) {
      tls::CertSpec spec{host, t.cert_file(), t.key_file(), t.cert_pem(), t.key_pem(), absl::StrCat(path, " (", v.name(), ")")};
      certs.insert(certs.begin() + static_cast<std::ptrdiff_t>(at++), std::move(spec));
    }
  }
  if (!certs.empty()) {
    // The first certificate is the default when no name matches the client's SNI.
    auto ctx = tls::ServerTlsContext::Create(certs);
    if (!ctx.ok()) return ctx.status().message().find("vhosts[") == 0 ? ctx.status() : FieldError("tls", ctx.status().message());
    out->server_tls = *std::move(ctx);
  }

  for (int i = 0; i < in.throttle_policies_size(); ++i) {
    const auto& p = in.throttle_policies(i);
    if (p.name().empty()) return FieldError(absl::StrCat("throttle_policies[", i, "].name"), "must not be empty");
    auto policy = throttle::CompilePolicy(p);
    if (!policy.ok()) return FieldError(absl::StrCat("throttle_policies[", i, "] (", p.name(), ")"), policy.status().message());
    out->throttle_policies[p.name()] = *std::move(policy);
  }

  WSGATE_RETURN_IF_ERROR(CompileBackendKey(in.backend_signing_key(), out.get()));
  for (int i = 0; i < in.apis_size(); ++i) {
    const v1::Api& a = in.apis(i);
    std::string path = absl::StrCat("apis[", i, "]");
    auto api = std::make_unique<Api>();
    api->index = static_cast<uint32_t>(i);
    api->id = a.id();
    api->name = a.name();
    api->context = a.context();
    api->version = a.version();
    api->revision = a.revision();
    api->is_default_version = a.is_default_version();
    api->state = a.state();
    api->throttle_policy = a.throttle_policy();
    api->idle_timeout_ms = a.idle_timeout_ms();
    api->max_lifetime_ms = a.max_lifetime_ms();
    api->handshake_rate = a.handshake_rate();
    api->handshake_burst = a.handshake_burst();
    WSGATE_RETURN_IF_ERROR(CheckConnectionTimer((path + ".idle_timeout_ms").c_str(), api->idle_timeout_ms));
    WSGATE_RETURN_IF_ERROR(CheckConnectionTimer((path + ".max_lifetime_ms").c_str(), api->max_lifetime_ms));
    WSGATE_RETURN_IF_ERROR(CheckMaxMessageBytes(path + ".max_message_bytes", a.max_message_bytes()));
    api->max_message_bytes = a.max_message_bytes();
    if (api->id.empty()) return FieldError(path + ".id", "must not be empty");
    if (out->apis_by_id.contains(api->id)) return FieldError(path + ".id", absl::StrCat("duplicate id '", api->id, "'"));
    if (api->context.empty() || api->context[0] != '/' || api->context.back() == '/' ||
        api->context.find_first_of("?# ") != std::string::npos)
      return FieldError(path + ".context", "must start with '/', not end with '/', and hold no '?', '#' or space");
    if (api->version.empty() || api->version.find_first_of("/?# ") != std::string::npos)
      return FieldError(path + ".version", "must be non-empty and hold no '/', '?', '#' or space");
    if (a.state() == v1::LIFECYCLE_STATE_UNSPECIFIED) api->state = v1::PUBLISHED;
    if (!a.production_endpoint().url().empty()) {
      WSGATE_ASSIGN_OR_RETURN(api->production, CompileEndpoint(path + ".production_endpoint", a.production_endpoint(), resolver));
    }
    if (!a.sandbox_endpoint().url().empty()) {
      WSGATE_ASSIGN_OR_RETURN(api->sandbox, CompileEndpoint(path + ".sandbox_endpoint", a.sandbox_endpoint(), resolver));
    }
    if (!api->production && !api->sandbox)
      return FieldError(path, "needs a production_endpoint or a sandbox_endpoint");
    WSGATE_RETURN_IF_ERROR(CompileAccess(a.access(), path + ".access", &api->origins, &api->ip));
    WSGATE_RETURN_IF_ERROR(CompileSecuritySchemes(a, path + ".security_schemes", *api));  // api_keys.h
    WSGATE_RETURN_IF_ERROR(CompileBackend(a.backend(), path, &api->backend));
    if (api->backend.jwt && out->backend_key == nullptr)
      return FieldError(path + ".backend.jwt", "needs a backend_signing_key to sign with");
    if (!api->throttle_policy.empty() && !out->throttle_policies.contains(api->throttle_policy))
      return FieldError(path + ".throttle_policy", absl::StrCat("unknown policy '", api->throttle_policy, "'"));
    for (int j = 0; j < a.topics_size(); ++j) {
      const v1::Topic& t = a.topics(j);
      std::string tpath = absl::StrCat(path, ".topics[", j, "]");
      Topic topic;
      if (absl::Status st2 = ParseTopicTemplate(t.name(), &topic); !st2.ok()) return FieldError(tpath + ".name", st2.message());
      topic.publish = t.publish() || !t.subscribe();  // neither set means both
      topic.subscribe = t.subscribe() || !t.publish();
      topic.url_mapping = t.url_mapping();
      topic.scopes.assign(t.scopes().begin(), t.scopes().end());
      topic.unsecured = t.unsecured();
      WSGATE_RETURN_IF_ERROR(CheckMapping(tpath + ".url_mapping", topic));
      for (const Topic& other : api->topics)
        if (SameTemplate(other, topic))
          return FieldError(tpath + ".name", absl::StrCat(topic.name, " matches the same paths as ", other.name));
      api->topics.push_back(std::move(topic));
    }
    std::stable_sort(api->topics.begin(), api->topics.end(), MoreSpecific);

    // Route prefixes in each vhost.
    std::string versioned = api->context.find("{version}") != std::string::npos
                                ? std::string(api->context)
                                : absl::StrCat(api->context, "/{version}");
    versioned.replace(versioned.find("{version}"), 9, api->version);
    api->backend.api_context = versioned;
    std::string bare = api->context;
    if (size_t v = bare.find("/{version}"); v != std::string::npos) bare.erase(v, 10);
    if (a.vhosts_size() == 0) return FieldError(path + ".vhosts", "an API must be deployed to at least one vhost");
    for (int k = 0; k < a.vhosts_size(); ++k) {
      auto it = vhost_by_name.find(a.vhosts(k));
      if (it == vhost_by_name.end())
        return FieldError(absl::StrCat(path, ".vhosts[", k, "]"), absl::StrCat("unknown vhost '", a.vhosts(k), "'"));
      auto& table = out->routes[it->second];
      if (!table.emplace(versioned, api.get()).second)
        return FieldError(path, absl::StrCat(versioned, " is already served on vhost ", a.vhosts(k)));
      if (api->is_default_version && !bare.empty() && !table.emplace(bare, api.get()).second)
        return FieldError(path + ".is_default_version", absl::StrCat(bare, " is already served on vhost ", a.vhosts(k)));
    }
    api->environment = EnvironmentsOf(in, a);
    out->apis_by_id[api->id] = api.get();
    out->apis.push_back(std::move(api));
  }

  out->applications.Reserve(static_cast<size_t>(in.applications_size()));
  for (int i = 0; i < in.applications_size(); ++i) {
    const auto& a = in.applications(i);
    if (a.id().empty()) return FieldError(absl::StrCat("applications[", i, "].id"), "must not be empty");
    out->applications.Insert(a.id(), Application{a.id(), a.name(), a.blocked(), a.throttle_policy(), a.owner()});
  }
  // Credentials (credentials.h: the same checks a delta's entries get).
  out->subscriptions.Reserve(static_cast<size_t>(in.subscriptions_size()));
  out->subscription_keys.Reserve(static_cast<size_t>(in.subscriptions_size()));
  for (int i = 0; i < in.subscriptions_size(); ++i)
    WSGATE_RETURN_IF_ERROR(AddSubscription(in.subscriptions(i), absl::StrCat("subscriptions[", i, "]"), out.get()));
  out->consumer_keys.Reserve(static_cast<size_t>(in.consumer_keys_size()));
  for (int i = 0; i < in.consumer_keys_size(); ++i)
    WSGATE_RETURN_IF_ERROR(AddConsumerKey(in.consumer_keys(i), absl::StrCat("consumer_keys[", i, "]"), out.get()));
  for (int i = 0; i < in.signing_keys_size(); ++i)
    WSGATE_RETURN_IF_ERROR(AddSigningKey(in.signing_keys(i), absl::StrCat("signing_keys[", i, "]"), false, out.get()));
  WSGATE_RETURN_IF_ERROR(CompileIdentityProviders(in, out.get()));  // idp.h
  out->opaque_tokens.Reserve(static_cast<size_t>(in.opaque_tokens_size()));
  for (int i = 0; i < in.opaque_tokens_size(); ++i)
    WSGATE_RETURN_IF_ERROR(AddOpaqueToken(in.opaque_tokens(i), absl::StrCat("opaque_tokens[", i, "]"), out.get()));
  out->revoked_jtis.Reserve(static_cast<size_t>(in.revoked_tokens_size()));
  for (const auto& r : in.revoked_tokens()) AddRevokedToken(r, out.get());
  WSGATE_RETURN_IF_ERROR(CompileApiKeys(in, *out));  // api_keys.h
  return out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> Compile(const v1::Snapshot& in, const Resolver& resolver,
                                                        const TlsDefaults& tls_defaults) {
  WSGATE_ASSIGN_OR_RETURN(std::shared_ptr<Snapshot> out, CompileMutable(in, resolver, tls_defaults));
  out->configured = true;
  return std::shared_ptr<const Snapshot>(std::move(out));
}

absl::StatusOr<std::shared_ptr<const Snapshot>> CompileDefaults(const TlsDefaults& tls_defaults) {
  WSGATE_ASSIGN_OR_RETURN(std::shared_ptr<Snapshot> out, CompileMutable(v1::Snapshot(), SystemResolver(), tls_defaults));
  out->configured = false;
  return std::shared_ptr<const Snapshot>(std::move(out));
}

uint64_t Snapshot::MaxMessageBytes(std::string_view api_id) const {
  auto it = apis_by_id.find(Sv(api_id));
  return it != apis_by_id.end() && it->second->max_message_bytes != 0 ? it->second->max_message_bytes
                                                                       : settings.max_message_bytes;
}

const Subscription* Snapshot::FindSubscription(std::string_view application_id, std::string_view api_id) const {
  return subscriptions.Find(SubscriptionKey(application_id, api_id));
}

std::string SubscriptionKey(std::string_view application_id, std::string_view api_id) {
  std::string key;
  key.reserve(application_id.size() + api_id.size() + 1);
  key.append(application_id).append("\n").append(api_id);
  return key;
}

std::shared_ptr<const Snapshot> EmptySnapshot() {
  static const std::shared_ptr<const Snapshot> empty = std::make_shared<Snapshot>();
  return empty;
}

}  // namespace wsgate::engine::config

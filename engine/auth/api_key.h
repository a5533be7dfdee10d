// File: engine/auth/api_key.h
//
// API keys at the handshake (issue 14 item 4, as WSO2 4.3 for WebSocket APIs): on an API whose
// security schemes include api_key, the `apikey` header or ?apikey= query parameter (the header
// wins; both are stripped before the backend's request) is looked up by its SHA-256 among the
// snapshot's keys. An unknown key is 401 "Invalid Credentials", an expired one 401 "Invalid
// Credentials: API key expired"; a key restricted to other APIs, addresses or origins is 403 with
// a text body naming the restriction. Then the admission tokens get (Admit in authenticator.h):
// the key's application must be subscribed, its key type selects the endpoint. An API key holds
// no scopes, so topics that require scopes refuse it (403).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/auth/authenticator.h"

namespace wsgate::engine::auth {

AuthResult AuthenticateApiKey(const config::Snapshot& snapshot, const config::RouteResult& route,
                              const Credentials& credentials, int64_t now_unix_s);

// For a live connection opened with an API key: false once the key is gone from the snapshot
// (revoked) or names another application. Expiry is Identity::ExpiredAt's, like every credential.
bool ApiKeyStillListed(const config::Snapshot& snapshot, const Identity& identity);

// "https://app.example.com" of a Referer "https://app.example.com/page?q"; nullopt when it has no
// scheme and host. What an origin restriction checks when a request carries no Origin.
std::optional<std::string> RefererOrigin(std::string_view referer);

}  // namespace wsgate::engine::auth

// File: agent/jwk.cc
#include "agent/jwk.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/json.h"
#include "engine/common/base64.h"

namespace wsgate::agent {
namespace {

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// A base64url member (no padding, as RFC 7518 §6 asks; padding is tolerated).
absl::StatusOr<std::string> B64Member(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return Bad(name, "missing");
  std::string text = it->get<std::string>(), out;
  while (!text.empty() && text.back() == '=') text.pop_back();
  if (text.empty() || !wsgate::common::Base64UrlDecode(text, &out)) return Bad(name, "not base64url");
  return out;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// EVP_PKEY_fromdata for `type` ("RSA", "EC") with the parameters `add` puts in.
template <typename Add>
absl::StatusOr<std::string> PemFromParams(const char* type, Add add) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return absl::InternalError("OSSL_PARAM_BLD_new failed");
  std::vector<BIGNUM*> bns;
  bool ok = add(bld, bns);
  OSSL_PARAM* params = ok ? OSSL_PARAM_BLD_to_param(bld) : nullptr;
  EVP_PKEY* raw = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  if (params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1)
    EVP_PKEY_fromdata(ctx, &raw, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  for (BIGNUM* bn : bns) BN_free(bn);
  Pkey key(raw);
  if (key == nullptr) return absl::InvalidArgumentError("the key parameters do not form a valid public key");
  if (std::string_view(type) == "EC") {  // the point must be on the curve
    EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr);
    int valid = check != nullptr ? EVP_PKEY_public_check(check) : 0;
    EVP_PKEY_CTX_free(check);
    if (valid != 1) return absl::InvalidArgumentError("the EC point is not on P-256");
  }
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio, key.get()) != 1) {
    BIO_free(bio);
    return absl::InternalError("could not write the public key as PEM");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

absl::StatusOr<v1::SigningKey> FromJson(const Json& jwk) {
  if (!jwk.is_object()) return Bad("jwk", "not a JSON object");
  auto str = [&](const char* name) {
    auto it = jwk.find(name);
    return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string kty = str("kty"), alg = str("alg");
  v1::SigningKey out;
  out.set_kid(str("kid"));
  if (kty == "RSA") {
    if (!alg.empty() && alg != "RS256") return Bad("alg", absl::StrCat("'", alg, "' is not supported for RSA (RS256)"));
    absl::StatusOr<std::string> n = B64Member(jwk, "n"), e = B64Member(jwk, "e");
    if (!n.ok()) return n.status();
    if (!e.ok()) return e.status();
    if (n->size() < 256) return Bad("n", absl::StrCat("an RSA modulus of ", n->size() * 8, " bits is too small (2048 at least)"));
    absl::StatusOr<std::string> pem = PemFromParams("RSA", [&](OSSL_PARAM_BLD* bld, std::vector<BIGNUM*>& bns) {
      BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr);
      BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr);
      bns = {bn_n, bn_e};
      return bn_n != nullptr && bn_e != nullptr && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1;
    });
    if (!pem.ok()) return pem.status();
    out.set_algorithm(v1::RS256);
    out.set_public_key_pem(*pem);
    return out;
  }
  if (kty == "EC") {
    if (str("crv") != "P-256") return Bad("crv", absl::StrCat("'", str("crv"), "' is not supported (P-256)"));
    if (!alg.empty() && alg != "ES256") return Bad("alg", absl::StrCat("'", alg, "' is not supported for P-256 (ES256)"));
    absl::StatusOr<std::string> x = B64Member(jwk, "x"), y = B64Member(jwk, "y");
    if (!x.ok()) return x.status();
    if (!y.ok()) return y.status();
    if (x->size() != 32 || y->size() != 32) return Bad("x", "P-256 coordinates are 32 bytes each");
    std::string point = absl::StrCat("\x04", *x, *y);  // uncompressed SEC1 point
    absl::StatusOr<std::string> pem = PemFromParams("EC", [&](OSSL_PARAM_BLD* bld, std::vector<BIGNUM*>&) {
      return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1;
    });
    if (!pem.ok()) return pem.status();
    out.set_algorithm(v1::ES256);
    out.set_public_key_pem(*pem);
    return out;
  }
  return Bad("kty", absl::StrCat("'", kty, "' is not supported (RSA, EC)"));
}

}  // namespace

absl::StatusOr<v1::SigningKey> JwkToKey(std::string_view jwk_json) {
  Json jwk = Json::parse(std::string(jwk_json), nullptr, false);
  if (jwk.is_discarded()) return Bad("jwk", "not JSON");
  return FromJson(jwk);
}

absl::StatusOr<std::vector<v1::SigningKey>> ParseJwks(std::string_view body, std::vector<std::string>* skipped) {
  Json doc = Json::parse(std::string(body), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    return absl::InvalidArgumentError("not a JWKS document (a JSON object with a \"keys\" array)");
  std::vector<v1::SigningKey> keys;
  std::set<std::string> kids;
  for (const Json& jwk : doc["keys"]) {
    std::string kid = jwk.is_object() && jwk.contains("kid") && jwk["kid"].is_string() ? jwk["kid"].get<std::string>() : "";
    std::string use = jwk.is_object() && jwk.contains("use") && jwk["use"].is_string() ? jwk["use"].get<std::string>() : "";
    if (kid.empty()) {
      skipped->push_back("a key without a kid");
      continue;
    }
    if (!use.empty() && use != "sig") {
      skipped->push_back(absl::StrCat("kid ", kid, ": use '", use, "' is not sig"));
      continue;
    }
    absl::StatusOr<v1::SigningKey> key = FromJson(jwk);
    if (!key.ok()) {
      skipped->push_back(absl::StrCat("kid ", kid, ": ", key.status().message()));
      continue;
    }
    if (!kids.insert(kid).second) return absl::InvalidArgumentError(absl::StrCat("kid '", kid, "' appears twice"));
    keys.push_back(*std::move(key));
  }
  if (keys.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("no usable signing key (RSA or EC P-256 with a kid)", skipped->empty() ? "" : ": ", skipped->empty() ? "" : skipped->front()));
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.kid() < b.kid(); });
  return keys;
}

}  // namespace wsgate::agent

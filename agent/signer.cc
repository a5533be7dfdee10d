// File: agent/signer.cc — OpenSSL 3 behind agent/signer.h.
#include "agent/signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "engine/common/base64.h"

namespace wsgate::agent {
namespace {

using common::Base64UrlEncode;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &bn)) return {};
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

}  // namespace

struct SigningKey::Impl {
  Pkey key;
};

std::string JwsAlgorithmName(v1::SigningAlgorithm alg) {
  switch (alg) {
    case v1::ES256: return "ES256";
    case v1::EDDSA: return "EdDSA";
    default: return "RS256";
  }
}

SigningKey::SigningKey(v1::SigningAlgorithm alg, std::string kid, std::unique_ptr<Impl> impl)
    : alg_(alg), kid_(std::move(kid)), impl_(std::move(impl)) {}
SigningKey::~SigningKey() = default;

absl::StatusOr<std::unique_ptr<SigningKey>> SigningKey::Generate(v1::SigningAlgorithm alg, std::string kid) {
  if (alg == v1::SIGNING_ALGORITHM_UNSPECIFIED) alg = v1::RS256;
  EVP_PKEY* raw = nullptr;
  switch (alg) {
    case v1::RS256: raw = EVP_RSA_gen(2048); break;
    case v1::ES256: raw = EVP_EC_gen("P-256"); break;
    case v1::EDDSA: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    default: return absl::InvalidArgumentError("algorithm: unknown signing algorithm");
  }
  if (raw == nullptr) return absl::InternalError("key generation failed");
  auto impl = std::make_unique<Impl>();
  impl->key.reset(raw);
  return std::unique_ptr<SigningKey>(new SigningKey(alg, std::move(kid), std::move(impl)));
}

absl::StatusOr<std::unique_ptr<SigningKey>> SigningKey::FromPrivatePem(v1::SigningAlgorithm alg, std::string kid,
                                                                        std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (raw == nullptr) return absl::DataLossError(absl::StrCat("signing key ", kid, ": unreadable private key"));
  auto impl = std::make_unique<Impl>();
  impl->key.reset(raw);
  return std::unique_ptr<SigningKey>(new SigningKey(alg, std::move(kid), std::move(impl)));
}

std::string SigningKey::PrivatePem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, impl_->key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::string out = BioString(bio);
  BIO_free(bio);
  return out;
}

std::string SigningKey::PublicPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, impl_->key.get());
  std::string out = BioString(bio);
  BIO_free(bio);
  return out;
}

Json SigningKey::Jwk() const {
  EVP_PKEY* key = impl_->key.get();
  Json jwk = {{"kid", kid_}, {"use", "sig"}, {"alg", JwsAlgorithmName(alg_)}};
  if (alg_ == v1::ES256) {
    std::string x = BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X), y = BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    x.insert(0, 32 - std::min<size_t>(32, x.size()), '\0');
    y.insert(0, 32 - std::min<size_t>(32, y.size()), '\0');
    jwk.update({{"kty", "EC"}, {"crv", "P-256"}, {"x", Base64UrlEncode(x)}, {"y", Base64UrlEncode(y)}});
  } else if (alg_ == v1::EDDSA) {
    unsigned char pub[32];
    size_t len = sizeof(pub);
    EVP_PKEY_get_raw_public_key(key, pub, &len);
    jwk.update({{"kty", "OKP"},
                {"crv", "Ed25519"},
                {"x", Base64UrlEncode(std::string_view(reinterpret_cast<char*>(pub), len))}});
  } else {
    jwk.update({{"kty", "RSA"},
                {"n", Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_RSA_N))},
                {"e", Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_RSA_E))}});
  }
  return jwk;
}

absl::StatusOr<std::string> SigningKey::SignJwt(const Json& payload) const {
  if (!payload.is_object()) return absl::InvalidArgumentError("a JWT payload must be a JSON object");
  std::string input =
      absl::StrCat(Base64UrlEncode(DumpJson({{"alg", JwsAlgorithmName(alg_)}, {"typ", "JWT"}, {"kid", kid_}})), ".",
                   Base64UrlEncode(DumpJson(payload)));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = alg_ == v1::EDDSA ? nullptr : EVP_sha256();
  size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, impl_->key.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return absl::InternalError("signing failed");
  if (alg_ == v1::ES256) {  // DER ECDSA-Sig-Value → JWS r||s
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    if (es == nullptr) return absl::InternalError("ECDSA signature decoding failed");
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(es);
    sig = std::move(raw);
  }
  return absl::StrCat(input, ".", Base64UrlEncode(sig));
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return std::string(reinterpret_cast<char*>(d), sizeof(d));
}

bool SecureEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace wsgate::agent

// File: engine/tls/crypto.cc — BoringSSL behind engine/tls/crypto.h.
#include "engine/tls/crypto.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "absl/strings/str_cat.h"

namespace wsgate::engine::tls {
namespace {

bssl::UniquePtr<EVP_PKEY> ReadPublicPem(std::string_view pem) {
  if (pem.size() > (1 << 20)) return nullptr;
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return bssl::UniquePtr<EVP_PKEY>(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

// JWS ES256 signatures are r||s, 32 bytes each; BoringSSL verifies DER ECDSA-Sig-Value.
bool VerifyEs256(EVP_PKEY* key, std::string_view data, std::string_view sig) {
  if (sig.size() != 64) return false;
  const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key);
  if (ec == nullptr) return false;
  bssl::UniquePtr<ECDSA_SIG> s(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const uint8_t*>(sig.data()), 32, nullptr);
  BIGNUM* ss = BN_bin2bn(reinterpret_cast<const uint8_t*>(sig.data()) + 32, 32, nullptr);
  if (r == nullptr || ss == nullptr || !ECDSA_SIG_set0(s.get(), r, ss)) {
    BN_free(r);
    BN_free(ss);
    return false;
  }
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), digest);
  return ECDSA_do_verify(digest, sizeof(digest), s.get(), ec) == 1;
}

}  // namespace

std::string_view JwsName(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kRs256: return "RS256";
    case SignatureAlgorithm::kEs256: return "ES256";
    case SignatureAlgorithm::kEdDsa: return "EdDSA";
  }
  return "?";
}

struct PublicKey::Impl {
  bssl::UniquePtr<EVP_PKEY> key;
};

PublicKey::PublicKey(SignatureAlgorithm alg, std::unique_ptr<Impl> impl) : alg_(alg), impl_(std::move(impl)) {}
PublicKey::~PublicKey() = default;

absl::StatusOr<std::unique_ptr<PublicKey>> PublicKey::FromPem(SignatureAlgorithm alg, std::string_view pem) {
  bssl::UniquePtr<EVP_PKEY> key = ReadPublicPem(pem);
  if (!key) return absl::InvalidArgumentError("not a PEM public key (SubjectPublicKeyInfo)");
  int type = EVP_PKEY_id(key.get());
  switch (alg) {
    case SignatureAlgorithm::kRs256:
      if (type != EVP_PKEY_RSA) return absl::InvalidArgumentError("RS256 needs an RSA key");
      if (EVP_PKEY_bits(key.get()) < 2048) return absl::InvalidArgumentError("RSA keys must have at least 2048 bits");
      break;
    case SignatureAlgorithm::kEs256: {
      const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key.get());
      if (type != EVP_PKEY_EC || ec == nullptr ||
          EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)) != NID_X9_62_prime256v1)
        return absl::InvalidArgumentError("ES256 needs a P-256 key");
      break;
    }
    case SignatureAlgorithm::kEdDsa:
      if (type != EVP_PKEY_ED25519) return absl::InvalidArgumentError("EdDSA needs an Ed25519 key");
      break;
  }
  auto impl = std::make_unique<Impl>();
  impl->key = std::move(key);
  return std::unique_ptr<PublicKey>(new PublicKey(alg, std::move(impl)));
}

bool PublicKey::Verify(std::string_view data, std::string_view signature) const {
  EVP_PKEY* key = impl_->key.get();
  if (alg_ == SignatureAlgorithm::kEs256) return VerifyEs256(key, data, signature);
  bssl::ScopedEVP_MD_CTX ctx;
  const EVP_MD* md = alg_ == SignatureAlgorithm::kRs256 ? EVP_sha256() : nullptr;
  EVP_PKEY_CTX* pctx = nullptr;
  if (!EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key)) return false;
  // RS256 is PKCS#1 v1.5 only; never let a key's defaults pick PSS.
  if (alg_ == SignatureAlgorithm::kRs256 && !EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING)) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const uint8_t*>(signature.data()), signature.size(),
                          reinterpret_cast<const uint8_t*>(data.data()), data.size()) == 1;
}

struct PrivateKey::Impl {
  bssl::UniquePtr<EVP_PKEY> key;
};

PrivateKey::PrivateKey(SignatureAlgorithm alg, std::unique_ptr<Impl> impl) : alg_(alg), impl_(std::move(impl)) {}
PrivateKey::~PrivateKey() = default;

absl::StatusOr<std::unique_ptr<PrivateKey>> PrivateKey::Generate(SignatureAlgorithm alg) {
  auto impl = std::make_unique<Impl>();
  impl->key.reset(EVP_PKEY_new());
  switch (alg) {
    case SignatureAlgorithm::kRs256: {
      bssl::UniquePtr<RSA> rsa(RSA_new());
      bssl::UniquePtr<BIGNUM> e(BN_new());
      BN_set_word(e.get(), RSA_F4);
      if (!RSA_generate_key_ex(rsa.get(), 2048, e.get(), nullptr) || !EVP_PKEY_assign_RSA(impl->key.get(), rsa.release()))
        return absl::InternalError("RSA key generation failed");
      break;
    }
    case SignatureAlgorithm::kEs256: {
      bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
      if (!ec || !EC_KEY_generate_key(ec.get()) || !EVP_PKEY_assign_EC_KEY(impl->key.get(), ec.release()))
        return absl::InternalError("EC key generation failed");
      break;
    }
    case SignatureAlgorithm::kEdDsa: {
      bssl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
      EVP_PKEY* raw = nullptr;
      if (!ctx || !EVP_PKEY_keygen_init(ctx.get()) || !EVP_PKEY_keygen(ctx.get(), &raw))
        return absl::InternalError("Ed25519 key generation failed");
      impl->key.reset(raw);
      break;
    }
  }
  return std::unique_ptr<PrivateKey>(new PrivateKey(alg, std::move(impl)));
}

absl::StatusOr<std::unique_ptr<PrivateKey>> PrivateKey::FromPem(SignatureAlgorithm alg, std::string_view pem) {
  if (pem.size() > (1 << 20)) return absl::InvalidArgumentError("private key PEM too large");
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  auto impl = std::make_unique<Impl>();
  if (bio) impl->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!impl->key) return absl::InvalidArgumentError("not a PEM private key");
  // The public half must pass PublicKey's checks for `alg` (key type, size, curve).
  bssl::UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!PEM_write_bio_PUBKEY(out.get(), impl->key.get()) || !BIO_mem_contents(out.get(), &data, &len))
    return absl::InvalidArgumentError("not a usable private key");
  auto pub = PublicKey::FromPem(alg, std::string_view(reinterpret_cast<const char*>(data), len));
  if (!pub.ok()) return pub.status();
  return std::unique_ptr<PrivateKey>(new PrivateKey(alg, std::move(impl)));
}

std::string PrivateKey::Sign(std::string_view data) const {
  EVP_PKEY* key = impl_->key.get();
  if (alg_ == SignatureAlgorithm::kEs256) {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), digest);
    bssl::UniquePtr<ECDSA_SIG> sig(ECDSA_do_sign(digest, sizeof(digest), EVP_PKEY_get0_EC_KEY(key)));
    if (!sig) return {};
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string out(64, '\0');
    BN_bn2bin_padded(reinterpret_cast<uint8_t*>(out.data()), 32, r);
    BN_bn2bin_padded(reinterpret_cast<uint8_t*>(out.data()) + 32, 32, s);
    return out;
  }
  bssl::ScopedEVP_MD_CTX ctx;
  const EVP_MD* md = alg_ == SignatureAlgorithm::kRs256 ? EVP_sha256() : nullptr;
  if (!EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key)) return {};
  size_t len = 0;
  if (!EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const uint8_t*>(data.data()), data.size())) return {};
  std::string out(len, '\0');
  if (!EVP_DigestSign(ctx.get(), reinterpret_cast<uint8_t*>(out.data()), &len,
                      reinterpret_cast<const uint8_t*>(data.data()), data.size()))
    return {};
  out.resize(len);
  return out;
}

std::string PrivateKey::PublicKeyPem() const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PUBKEY(bio.get(), impl_->key.get())) return {};
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string PrivateKey::PrivateKeyPem() const {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PKCS8PrivateKey(bio.get(), impl_->key.get(), nullptr, nullptr, 0, nullptr, nullptr)) return {};
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest d;
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), d.data());
  return d;
}

void RandomBytes(uint8_t* out, size_t n) { RAND_bytes(out, n); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace wsgate::engine::tls

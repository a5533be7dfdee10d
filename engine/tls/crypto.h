// File: engine/tls/crypto.h
//
// The engine's only door to BoringSSL for plain cryptography (TLS termination joins this folder
// with the wss issue). The header exposes no BoringSSL types, so modules above it (config, auth)
// stay free of OpenSSL-style headers.
//
//   auto key = PublicKey::FromPem(SignatureAlgorithm::kRs256, pem);   // StatusOr
//   bool ok = (*key)->Verify(signing_input, signature);
//   Sha256Digest d = Sha256(token);
//   RandomBytes(mask, 4);                                              // CSPRNG
//
// Thread-safe: keys are immutable after construction and BoringSSL's primitives are reentrant.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace wsgate::engine::tls {

enum class SignatureAlgorithm : uint8_t {
  kRs256,  // RSASSA-PKCS1-v1_5 with SHA-256
  kEs256,  // ECDSA P-256 with SHA-256; JWS signatures are raw r||s (64 bytes)
  kEdDsa,  // Ed25519
};

// "RS256", "ES256", "EdDSA".
std::string_view JwsName(SignatureAlgorithm alg);

class PublicKey {
 public:
  // Parses a SubjectPublicKeyInfo PEM and checks it matches `alg` (RSA >= 2048 bits, P-256,
  // Ed25519). INVALID_ARGUMENT otherwise.
  static absl::StatusOr<std::unique_ptr<PublicKey>> FromPem(SignatureAlgorithm alg, std::string_view pem);
  ~PublicKey();

  SignatureAlgorithm algorithm() const { return alg_; }
  // Verifies a JWS signature over `data`. Never throws; false for any malformed input.
  bool Verify(std::string_view data, std::string_view signature) const;

 private:
  struct Impl;
  PublicKey(SignatureAlgorithm alg, std::unique_ptr<Impl> impl);
  SignatureAlgorithm alg_;
  std::unique_ptr<Impl> impl_;
};

// A signing key. The engine never signs access tokens; it signs backend JWTs (auth/backend_jwt.h)
// with the agent's pushed key (FromPem), and tests, benchmarks and the development certificate
// generator use Generate.
class PrivateKey {
 public:
  static absl::StatusOr<std::unique_ptr<PrivateKey>> Generate(SignatureAlgorithm alg);
  // A PEM private key (PKCS#8 or traditional) that must match `alg` (RSA >= 2048 bits, P-256,
  // Ed25519). INVALID_ARGUMENT otherwise; the message never quotes the key.
  static absl::StatusOr<std::unique_ptr<PrivateKey>> FromPem(SignatureAlgorithm alg, std::string_view pem);
  ~PrivateKey();
  SignatureAlgorithm algorithm() const { return alg_; }
  // A JWS signature (raw r||s for ES256).
  std::string Sign(std::string_view data) const;
  std::string PublicKeyPem() const;
  // PKCS#8 PEM, for tests and benchmarks that push a key as the agent does.
  std::string PrivateKeyPem() const;

 private:
  struct Impl;
  PrivateKey(SignatureAlgorithm alg, std::unique_ptr<Impl> impl);
  SignatureAlgorithm alg_;
  std::unique_ptr<Impl> impl_;
};

using Sha256Digest = std::array<uint8_t, 32>;
Sha256Digest Sha256(std::string_view data);

// Fills `out` from the CSPRNG.
void RandomBytes(uint8_t* out, size_t n);

// Constant-time equality for secrets of equal length (false if lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace wsgate::engine::tls

// File: agent/signer.h
//
// The agent's token signing keys, with OpenSSL 3 (the agent never links BoringSSL; see
// DESIGN.md). Generates keys, signs JWS (RS256, ES256, EdDSA), exports the public key as PEM for
// the engine and as a JWK for /.well-known/jwks.json.
//
//   auto key = SigningKey::Generate(v1::RS256, "kid-1");
//   std::string jwt = *key->SignJwt(Json{{"iss", "wsgate"}, ...});
//
// Immutable after construction; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "agent/json.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::agent {

class SigningKey {
 public:
  static absl::StatusOr<std::unique_ptr<SigningKey>> Generate(v1::SigningAlgorithm alg, std::string kid);
  static absl::StatusOr<std::unique_ptr<SigningKey>> FromPrivatePem(v1::SigningAlgorithm alg, std::string kid,
                                                                    std::string_view pem);
  ~SigningKey();

  const std::string& kid() const { return kid_; }
  v1::SigningAlgorithm algorithm() const { return alg_; }
  std::string PrivatePem() const;
  std::string PublicPem() const;
  // A JWK (RFC 7517) object for this public key.
  Json Jwk() const;
  // header.payload.signature, with header {"alg","typ":"JWT","kid"}; `payload` must be an object.
  absl::StatusOr<std::string> SignJwt(const Json& payload) const;

 private:
  struct Impl;
  SigningKey(v1::SigningAlgorithm alg, std::string kid, std::unique_ptr<Impl> impl);
  v1::SigningAlgorithm alg_;
  std::string kid_;
  std::unique_ptr<Impl> impl_;
};

// "RS256", "ES256", "EdDSA".
std::string JwsAlgorithmName(v1::SigningAlgorithm alg);

// Cryptographically random bytes, as lowercase hex (OpenSSL's RAND_bytes).
std::string RandomHex(size_t bytes);
// SHA-256 of `data` (raw 32 bytes).
std::string Sha256(std::string_view data);
// Constant-time equality.
bool SecureEquals(std::string_view a, std::string_view b);

}  // namespace wsgate::agent

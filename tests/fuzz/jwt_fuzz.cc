// Fuzz target: engine/auth JWT parsing (base64url, the JSON reader) and VerifyJwt's reject paths
// against a snapshot with no keys.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/auth/jwt.h"

using namespace wsgate::engine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auth::JwtClaims claims;
  (void)auth::ParseJwtHeader(in, &claims);
  (void)auth::ParseJwtPayload(in, &claims);
  std::string decoded;
  if (auth::Base64UrlDecode(in, &decoded)) {
    if (auth::Base64UrlEncode(decoded) != in) std::abort();  // canonical round trip
  }
  static const config::Snapshot empty;
  auth::VerifiedJwt v = auth::VerifyJwt(in, empty, 1900000000);
  if (v.error == auth::JwtError::kNone) std::abort();  // nothing can verify without keys
  return 0;
}

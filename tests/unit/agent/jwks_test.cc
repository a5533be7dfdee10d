// Unit tests for the identity provider JWKS rules (issue 14 item 6): JWK → SubjectPublicKeyInfo
// PEM with RFC 7517 Appendix A.1's keys (expected PEMs computed independently with Python's
// cryptography), JWKS filtering, jwks_url checks, Cache-Control max-age, and the refresh/retry
// schedule on a fake clock.
#include <gtest/gtest.h>

#include "agent/jwk.h"
#include "agent/jwks_schedule.h"

namespace wsgate::agent {
namespace {

constexpr const char* kRfcRsa =
    R"({"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"})";
constexpr const char* kRfcRsaPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0vx7agoebGcQSuuPiLJX\n"
    "ZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tS\n"
    "oc/BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ/2W+5JsGY4Hc5n9yBXArwl93lqt\n"
    "7/RN5w6Cf0h4QyQ5v+65YGjQR0/FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0\n"
    "zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt+bFTWhAI4vMQFh6WeZu0f\n"
    "M4lFd2NcRwr3XPksINHaQ+G/xBniIqbw0Ls1jF44+csFCur+kEgU8awapJzKnqDK\n"
    "gwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
constexpr const char* kRfcEc =
    R"({"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","kid":"1"})";
constexpr const char* kRfcEcPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKBCTNIcKUSDii11ySs3526iDZ8A\n"
    "iTo7Tu6KPAqv7D7gS2XpJFbZiItSs3m9+9Ue6GnvHw/GW2ZZaVtszggXIw==\n"
    "-----END PUBLIC KEY-----\n";

TEST(JwkTest, RsaAndEcKeysBecomeSubjectPublicKeyInfoPem) {
  absl::StatusOr<v1::SigningKey> rsa = JwkToKey(kRfcRsa);
  ASSERT_TRUE(rsa.ok()) << rsa.status();
  EXPECT_EQ(rsa->kid(), "2011-04-29");
  EXPECT_EQ(rsa->algorithm(), v1::RS256);
  EXPECT_EQ(rsa->public_key_pem(), kRfcRsaPem);
  absl::StatusOr<v1::SigningKey> ec = JwkToKey(kRfcEc);
  ASSERT_TRUE(ec.ok()) << ec.status();
  EXPECT_EQ(ec->algorithm(), v1::ES256);
  EXPECT_EQ(ec->public_key_pem(), kRfcEcPem);
}

TEST(JwkTest, RefusesWhatTheEngineCannotPinSafely) {
  EXPECT_EQ(JwkToKey(R"({"kty":"oct","k":"AAAA","kid":"h"})").status().message(), "kty: 'oct' is not supported (RSA, EC)");
  EXPECT_EQ(JwkToKey(R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA","kid":"p"})").status().message(),
            "crv: 'P-384' is not supported (P-256)");
  EXPECT_EQ(JwkToKey(R"({"kty":"RSA","n":"AQAB","e":"AQAB","kid":"small"})").status().message(),
            "n: an RSA modulus of 24 bits is too small (2048 at least)");
  EXPECT_EQ(JwkToKey(R"({"kty":"RSA","e":"AQAB","kid":"x"})").status().message(), "n: missing");
  EXPECT_EQ(JwkToKey(R"({"kty":"RSA","n":"!!","e":"AQAB"})").status().message(), "n: not base64url");
  // alg confusion: an RSA key that claims another algorithm is refused, not re-pinned.
  std::string ps = kRfcRsa;
  ps.replace(ps.find("RS256"), 5, "PS256");
  EXPECT_EQ(JwkToKey(ps).status().message(), "alg: 'PS256' is not supported for RSA (RS256)");
  // A point that is not on the curve.
  EXPECT_EQ(JwkToKey(R"({"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(JwkTest, JwksKeepsUsableSigningKeysSortedByKid) {
  std::string ec_enc = kRfcEc;
  ec_enc.replace(ec_enc.find(R"("kid":"1")"), 9, R"("kid":"enc","use":"enc")");
  std::string body = std::string(R"({"keys":[)") + kRfcRsa + "," + kRfcEc + "," + ec_enc +
                     R"(,{"kty":"oct","kid":"h","k":"AA"},{"kty":"RSA"}]})";
  std::vector<std::string> skipped;
  absl::StatusOr<std::vector<v1::SigningKey>> keys = ParseJwks(body, &skipped);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid(), "1");
  EXPECT_EQ((*keys)[1].kid(), "2011-04-29");
  EXPECT_EQ(skipped, (std::vector<std::string>{"kid enc: use 'enc' is not sig", "kid h: kty: 'oct' is not supported (RSA, EC)",
                                               "a key without a kid"}));
}

TEST(JwkTest, JwksWithoutAUsableKeyIsAnErrorSoTheLastGoodSetStays) {
  std::vector<std::string> skipped;
  EXPECT_EQ(ParseJwks(R"({"keys":[]})", &skipped).status().message(),
            "no usable signing key (RSA or EC P-256 with a kid)");
  EXPECT_EQ(ParseJwks("<html>", &skipped).status().message(),
            "not a JWKS document (a JSON object with a \"keys\" array)");
  std::string twice = std::string(R"({"keys":[)") + kRfcEc + "," + kRfcEc + "]}";
  EXPECT_EQ(ParseJwks(twice, &skipped).status().message(), "kid '1' appears twice");
}

TEST(JwksUrlTest, HttpsAnywhereHttpOnlyToLoopback) {
  EXPECT_TRUE(CheckJwksUrl("https://idp.example.com/realms/r/protocol/openid-connect/certs").ok());
  EXPECT_TRUE(CheckJwksUrl("http://127.0.0.1:8081/jwks").ok());
  EXPECT_TRUE(CheckJwksUrl("http://localhost/jwks").ok());
  EXPECT_TRUE(CheckJwksUrl("http://[::1]:9/jwks").ok());
  EXPECT_EQ(CheckJwksUrl("http://idp.example.com/jwks").message(),
            "jwks_url: http:// is allowed only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://");
  EXPECT_EQ(CheckJwksUrl("http://127.0.0.1.evil.com/jwks").code(), absl::StatusCode::kInvalidArgument);  // a DNS name
  EXPECT_EQ(CheckJwksUrl("ftp://x/jwks").message(), "jwks_url: must be an https:// URL (http:// only to a loopback host)");
  EXPECT_EQ(CheckJwksUrl("http://user@127.0.0.1/").message(), "jwks_url: must not carry user information");
  EXPECT_EQ(CheckJwksUrl("https:///jwks").message(), "jwks_url: has no host");
}

TEST(CacheControlTest, MaxAge) {
  EXPECT_EQ(ParseMaxAge("max-age=300"), 300);
  EXPECT_EQ(ParseMaxAge("public, MAX-AGE=7200, must-revalidate"), 7200);
  EXPECT_EQ(ParseMaxAge("no-cache"), 0);
  EXPECT_EQ(ParseMaxAge("no-store, no-cache"), 0);
  EXPECT_EQ(ParseMaxAge("public"), std::nullopt);
  EXPECT_EQ(ParseMaxAge(""), std::nullopt);
  EXPECT_EQ(ParseMaxAge("max-age=abc"), std::nullopt);
  EXPECT_EQ(ParseMaxAge("max-age=-5"), std::nullopt);
  EXPECT_EQ(ParseMaxAge("max-age=\"60\""), 60);
}

TEST(JwksScheduleTest, RefreshFollowsMaxAgeWithinBounds) {
  JwksSchedule s;  // 60 s .. 24 h, default 1 h
  const int64_t t = 1'000'000;
  EXPECT_EQ(s.OnSuccess(t, "max-age=600"), t + 600'000);
  EXPECT_EQ(s.OnSuccess(t, ""), t + 3600'000);
  EXPECT_EQ(s.OnSuccess(t, "max-age=5"), t + 60'000);
  EXPECT_EQ(s.OnSuccess(t, "no-store"), t + 60'000);
  EXPECT_EQ(s.OnSuccess(t, "max-age=31536000"), t + 86400'000);
  JwksBounds fast;
  fast.min_refresh_s = 1;
  EXPECT_EQ(JwksSchedule(fast).OnSuccess(t, "max-age=1"), t + 1000);
}

TEST(JwksScheduleTest, FailuresBackOffExponentiallyUpToTheCapAndResetOnSuccess) {
  JwksSchedule s;  // 2 s doubling, at most 300 s
  int64_t now = 5'000'000;
  std::vector<int64_t> delays;
  for (int i = 0; i < 10; ++i) {
    int64_t next = s.OnFailure(now);
    delays.push_back((next - now) / 1000);
    now = next;  // the fake clock jumps to each retry
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{2, 4, 8, 16, 32, 64, 128, 256, 300, 300}));
  EXPECT_EQ(s.failures(), 10);
  EXPECT_EQ(s.OnSuccess(now, "max-age=120"), now + 120'000);
  EXPECT_EQ(s.failures(), 0);
  EXPECT_EQ(s.OnFailure(now), now + 2000);
}

}  // namespace
}  // namespace wsgate::agent

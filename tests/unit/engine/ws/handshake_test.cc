// Unit tests for engine/ws/handshake: RFC 6455 and FIPS 180 vectors, UTF-8 and close codes.
#include "engine/common/base64.h"
#include "engine/ws/handshake.h"

#include <gtest/gtest.h>

#include <string>

namespace wsgate::engine::ws {
namespace {

std::string Hex(const std::array<uint8_t, 20>& d) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

TEST(AcceptKey, MatchesRfc6455Example) {
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Sha1, MatchesFipsVectors) {
  EXPECT_EQ(Hex(Sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Hex(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Hex(Sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(Hex(Sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  // Lengths around the padding boundary (55, 56, 63, 64 bytes).
  EXPECT_EQ(Hex(Sha1(std::string(55, 'a'))), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(Hex(Sha1(std::string(56, 'a'))), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(Hex(Sha1(std::string(64, 'a'))), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

TEST(Base64, EncodesWithPadding) {
  auto enc = [](std::string s) { return common::Base64Encode(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
}

TEST(IsValidUtf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("You joined room1!"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo w\xc3\xb6rld, \xe2\x82\xac and \xf0\x9f\x98\x80, long enough for the fast path"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(IsValidUtf8, RejectsMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xc3"));      // truncated after the fast path
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(CloseCodes, FollowRfc6455) {
  EXPECT_TRUE(IsValidCloseCodeOnWire(1000));
  EXPECT_TRUE(IsValidCloseCodeOnWire(1001));
  EXPECT_TRUE(IsValidCloseCodeOnWire(1011));
  EXPECT_TRUE(IsValidCloseCodeOnWire(4001));
  EXPECT_FALSE(IsValidCloseCodeOnWire(1005));
  EXPECT_FALSE(IsValidCloseCodeOnWire(1006));
  EXPECT_FALSE(IsValidCloseCodeOnWire(1015));
  EXPECT_FALSE(IsValidCloseCodeOnWire(999));
  EXPECT_FALSE(IsValidCloseCodeOnWire(5000));
}

}  // namespace
}  // namespace wsgate::engine::ws

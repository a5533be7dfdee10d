// Unit tests for agent/listen_policy.h: which listen addresses need TLS, and the PEM files' errors.
#include "agent/listen_policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace wsgate::agent {
namespace {

TEST(ListenPolicyTest, LoopbackAndUnixSocketsAreLocal) {
  struct Case {
    const char* listen;
    bool local;
  } cases[] = {
      {"127.0.0.1:9400", true}, {"127.3.4.5:1", true},     {"localhost:9400", true}, {"[::1]:9400", true},
      {"::1", true},            {"unix:/run/a.sock", true}, {"0.0.0.0:9400", false},  {"[::]:9400", false},
      {"10.0.0.5:9400", false}, {"gw1.example.com:9400", false}, {"128.0.0.1:1", false}, {"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(IsLocalAddress(c.listen), c.local) << c.listen;
}

TEST(ListenPolicyTest, OffHostNeedsTlsOrInsecureListen) {
  EXPECT_TRUE(CheckListen("--admin-listen", "127.0.0.1:0", false, false).ok());
  absl::Status s = CheckListen("--admin-listen", "0.0.0.0:9400", false, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--admin-listen 0.0.0.0:9400: refusing"), std::string::npos) << s;
  EXPECT_NE(s.message().find("--tls-cert FILE --tls-key FILE"), std::string::npos) << s;
  EXPECT_NE(s.message().find("--insecure-listen"), std::string::npos) << s;
  EXPECT_TRUE(CheckListen("--token-listen", "0.0.0.0:9401", true, false).ok());
  EXPECT_TRUE(CheckListen("--token-listen", "0.0.0.0:9401", false, true).ok());
}

TEST(ListenPolicyTest, TlsFilesBothOrNeitherAndPem) {
  absl::StatusOr<TlsFiles> none = LoadTlsFiles("", "");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->enabled());
  EXPECT_NE(LoadTlsFiles("cert.pem", "").status().message().find("--tls-cert needs --tls-key too"), std::string::npos);
  EXPECT_NE(LoadTlsFiles("", "key.pem").status().message().find("--tls-key needs --tls-cert too"), std::string::npos);
  char tmpl[] = "/tmp/wsgate-listen-policy-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::ofstream(dir + "/cert.pem") << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::ofstream(dir + "/key.pem") << "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
  std::ofstream(dir + "/junk.pem") << "hello\n";
  absl::StatusOr<TlsFiles> ok = LoadTlsFiles(dir + "/cert.pem", dir + "/key.pem");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->enabled());
  absl::Status junk = LoadTlsFiles(dir + "/junk.pem", dir + "/key.pem").status();
  EXPECT_NE(junk.message().find("--tls-cert " + dir + "/junk.pem: no PEM"), std::string::npos) << junk;
  absl::Status missing = LoadTlsFiles(dir + "/cert.pem", dir + "/nope.pem").status();
  EXPECT_NE(missing.message().find("--tls-key " + dir + "/nope.pem: cannot read it"), std::string::npos) << missing;
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

}  // namespace
}  // namespace wsgate::agent

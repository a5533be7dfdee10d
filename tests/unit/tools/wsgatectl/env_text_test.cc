// Unit tests for tools/wsgatectl/env_text: the --vhost flag (and its errors), and the text of
// environments, settings, certificates and `status`, as docs/cli.md shows them.
#include "tools/wsgatectl/env_text.h"

#include <gtest/gtest.h>

namespace wsgate::tools::ctl {
namespace {

TEST(ParseVhostSpec, TakesNameFlagsPortsAndAliases) {
  auto v = ParseVhostSpec("*.example.test,default,ws=9100,wss=8443,alias=a.test,alias=b.test");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->name(), "*.example.test");
  EXPECT_TRUE(v->is_default());
  EXPECT_EQ(v->ws_port(), 9100u);
  EXPECT_EQ(v->wss_port(), 8443u);
  ASSERT_EQ(v->aliases_size(), 2);
  EXPECT_EQ(v->aliases(1), "b.test");
  EXPECT_EQ(VhostSpecText(*v), "*.example.test,default,ws=9100,wss=8443,alias=a.test,alias=b.test");
  auto plain = ParseVhostSpec("gw.example.test");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->is_default());
  EXPECT_EQ(plain->ws_port(), 0u);  // the agent's default
}

TEST(ParseVhostSpec, ErrorsNameThePart) {
  EXPECT_EQ(ParseVhostSpec(",default").status().message(),
            "--vhost ',default': starts with the host name (NAME[,default][,ws=PORT][,wss=PORT][,alias=HOST])");
  EXPECT_EQ(ParseVhostSpec("a.test,ws=0").status().message(), "--vhost 'a.test,ws=0': ws=0: a port is 1-65535");
  EXPECT_EQ(ParseVhostSpec("a.test,wss=70000").status().message(),
            "--vhost 'a.test,wss=70000': wss=70000: a port is 1-65535");
  EXPECT_EQ(ParseVhostSpec("a.test,primary").status().message(),
            "--vhost 'a.test,primary': 'primary' is not default, ws=PORT, wss=PORT or alias=HOST");
  EXPECT_FALSE(ParseVhostSpec("a.test,ws=x").ok());
  EXPECT_FALSE(ParseVhostSpec("a.test,alias=").ok());
}

TEST(EnvironmentText, ShowsVhostsAndAMissingDefault) {
  v1::Environment e;
  e.set_name("Edge");
  e.set_type("production");
  v1::Vhost* v = e.add_vhosts();
  v->set_name("gw.example.test");
  v->set_ws_port(9099);
  v->set_wss_port(8099);
  v->add_aliases("gw2.example.test");
  EXPECT_EQ(EnvironmentText(e),
            "Edge (production)\n  vhost gw.example.test\tws 9099\twss 8099\taliases gw2.example.test\n"
            "  no default vhost: a Host that matches no vhost gets 404");
  v->set_is_default(true);
  EXPECT_EQ(EnvironmentText(e), "Edge (production)\n  vhost gw.example.test (default)\tws 9099\twss 8099\taliases gw2.example.test");
}

TEST(CertificateText, ShowsSubjectSansExpiryAndWarnings) {
  v1::CertificateInfo c;
  c.set_environment("Edge");
  c.set_vhost("gw.example.test");
  c.set_subject("CN=gw.example.test");
  c.add_sans("gw.example.test");
  c.set_not_after_unix_s(1893456000);  // 2030-01-01
  c.add_warnings("the certificate expires in 3 day(s)");
  EXPECT_EQ(CertificateText(c),
            "Edge\tgw.example.test\tCN=gw.example.test\tSANs gw.example.test\tnot after 2030-01-01T00:00:00Z"
            "\tWARNING: the certificate expires in 3 day(s)");
}

TEST(SettingsText, MarksDefaults) {
  v1::EnvironmentSettings s;
  s.set_environment("Edge");
  v1::SettingValue* v = s.add_values();
  v->set_key("ping_interval");
  v->set_value("10s");
  v->set_default_value("30s");
  v->set_min("1s");
  v->set_max("1h");
  v1::SettingValue* d = s.add_values();
  d->set_key("queue_bytes");
  d->set_value("1MiB");
  d->set_is_default(true);
  d->set_min("16KiB");
  d->set_max("1GiB");
  EXPECT_EQ(SettingsText(s),
            "settings of Edge:\n  ping_interval\t10s\t(default 30s)\t[1s, 1h]\n  queue_bytes\t1MiB\t(default)\t[16KiB, 1GiB]");
}

}  // namespace
}  // namespace wsgate::tools::ctl

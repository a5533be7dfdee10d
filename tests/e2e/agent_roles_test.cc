// End-to-end tests of admin users and roles (issue 14 item 8) with real wsgate-agent processes,
// wsgatectl and curl: role-restricted calls (a subscriber cannot create an API, a creator cannot
// deploy), users who cannot see each other's applications, the audit log's caller, TLS on the
// admin API and the token endpoint (a CA and certificate made with the openssl CLI, verified by
// wsgatectl --ca-file and curl --cacert), and non-loopback listeners refused without TLS.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 20000;

class AgentRoles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-agent-roles-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    agent_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  void StartAgent(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--engine", "", "--data-dir", dir_ + "/data", "--admin-listen", "127.0.0.1:0",
                                     "--token-listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    agent_ = std::make_unique<Subprocess>(argv);
    size_t at = 0;
    admin_port_ = std::to_string(agent_->NumberAfter("(port ", kTimeoutMs, &at));
    token_port_ = std::to_string(agent_->NumberAfter("(port ", kTimeoutMs, &at));
    ASSERT_NE(admin_port_, "0") << agent_->output();
    ASSERT_NE(token_port_, "0") << agent_->output();
  }
  // wsgatectl as `credential`'s user ("" = the data directory's admin.token).
  int Ctl(std::vector<std::string> args, const std::string& credential, std::string* out,
          const std::string& agent_host = "127.0.0.1") {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", agent_host + ":" + admin_port_, "--data-dir", dir_ + "/data"});
    std::vector<std::string> env;
    if (!credential.empty()) env.push_back("WSGATE_ADMIN_TOKEN=" + credential);
    Subprocess p(args, env);
    int code = p.Wait(kTimeoutMs);
    *out = p.output();
    return code;
  }
  std::string CtlOk(std::vector<std::string> args, const std::string& credential = "") {
    std::string out;
    EXPECT_EQ(Ctl(args, credential, &out), 0) << out;
    return out;
  }
  // The error wsgatectl printed (exit 1).
  std::string CtlFails(std::vector<std::string> args, const std::string& credential) {
    std::string out;
    EXPECT_EQ(Ctl(args, credential, &out), 1) << out;
    return out;
  }
  // Creates a user as admin; its credential.
  std::string User(const std::string& name, const std::string& roles) {
    std::string out = CtlOk({"user", "create", name, "--role", roles});
    size_t at = out.find("Credential: ");
    EXPECT_NE(at, std::string::npos) << out;
    return out.substr(at + 12, out.find('\n', at) - at - 12);
  }
  static int Run(const std::string& command) { return std::system(command.c_str()); }
  // curl's output followed by "\n<status>".
  static std::string Curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/curl", "-sS", "-w", "\n%{http_code}", "--max-time", "10"});
    Subprocess p(args);
    p.Wait(kTimeoutMs);
    return p.output();
  }

  std::string dir_, admin_port_, token_port_;
  std::unique_ptr<Subprocess> agent_;
};

TEST_F(AgentRoles, EachRoleDoesItsShareAndNoMore) {
  StartAgent();
  std::string alice = User("alice", "subscriber");
  std::string bob = User("bob", "subscriber");
  std::string carl = User("carl", "creator");
  std::string pat = User("pat", "publisher");
  EXPECT_NE(CtlOk({"user", "whoami"}, alice).find("alice\tsubscriber"), std::string::npos);
  std::string users = CtlOk({"user", "list"});
  EXPECT_NE(users.find("carl\tcreator"), std::string::npos) << users;
  EXPECT_NE(users.find("admin\tadmin,creator,publisher,subscriber"), std::string::npos) << users;

  // A subscriber cannot create an API: PERMISSION_DENIED naming the role needed.
  const std::vector<std::string> create = {"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0",
                                           "--endpoint", "ws://127.0.0.1:9"};
  std::string denied = CtlFails(create, alice);
  EXPECT_NE(denied.find("CreateApi needs the creator role (user 'alice' has subscriber"), std::string::npos) << denied;
  EXPECT_NE(CtlFails({"user", "create", "eve", "--role", "admin"}, alice).find("CreateUser needs the admin role"),
            std::string::npos);

  // A creator creates the API and a revision but cannot deploy it or publish it; a publisher can.
  CtlOk(create, carl);
  CtlOk({"api", "plans", "Chats:1.0.0", "AsyncUnlimited"}, carl);
  CtlOk({"revision", "create", "Chats:1.0.0"}, carl);
  std::string no_deploy = CtlFails({"revision", "deploy", "Chats:1.0.0", "1"}, carl);
  EXPECT_NE(no_deploy.find("DeployRevision needs the publisher role (user 'carl' has creator"), std::string::npos)
      << no_deploy;
  EXPECT_NE(CtlFails({"api", "lifecycle", "Chats:1.0.0", "Publish"}, carl).find("ChangeLifecycle needs the publisher"),
            std::string::npos);
  EXPECT_NE(CtlFails(create, pat).find("CreateApi needs the creator role"), std::string::npos);
  CtlOk({"revision", "deploy", "Chats:1.0.0", "1"}, pat);
  CtlOk({"api", "lifecycle", "Chats:1.0.0", "Publish"}, pat);
  EXPECT_NE(CtlOk({"api", "list"}, alice).find("Chats"), std::string::npos);  // subscribers read APIs

  // Each subscriber sees and touches only its own applications.
  CtlOk({"app", "create", "AliceApp"}, alice);
  CtlOk({"app", "create", "BobApp"}, bob);
  std::string mine = CtlOk({"app", "list"}, alice);
  EXPECT_NE(mine.find("AliceApp\talice"), std::string::npos) << mine;
  EXPECT_EQ(mine.find("BobApp"), std::string::npos) << mine;
  std::string all = CtlOk({"app", "list"});  // admin sees every one
  EXPECT_NE(all.find("AliceApp"), std::string::npos) << all;
  EXPECT_NE(all.find("BobApp"), std::string::npos) << all;
  // Another's application answers exactly what a missing one does.
  std::string hidden = CtlFails({"app", "get", "BobApp"}, alice);
  std::string missing = CtlFails({"app", "get", "NoSuchApp"}, alice);
  EXPECT_NE(hidden.find("no application 'BobApp'"), std::string::npos) << hidden;
  EXPECT_EQ(hidden.substr(0, hidden.find('\'')), missing.substr(0, missing.find('\'')));
  EXPECT_NE(CtlFails({"keys", "generate", "BobApp", "--type", "PRODUCTION"}, alice).find("no application 'BobApp'"),
            std::string::npos);
  EXPECT_NE(CtlFails({"subscription", "create", "BobApp", "Chats:1.0.0", "--plan", "AsyncUnlimited"}, alice)
                .find("no application 'BobApp'"),
            std::string::npos);
  EXPECT_NE(CtlFails({"app", "delete", "BobApp"}, alice).find("no application 'BobApp'"), std::string::npos);
  // A subscriber does not grant itself scopes or name another owner.
  EXPECT_NE(CtlFails({"app", "create", "Sneaky", "--owner", "bob"}, alice).find("only admin"), std::string::npos);
  EXPECT_NE(CtlFails({"app", "update", "AliceApp", "--scope", "chat:write"}, alice).find("only admin grants scopes"),
            std::string::npos);
  EXPECT_NE(CtlFails({"app", "block", "AliceApp"}, alice).find("only admin"), std::string::npos);
  // Its own application works end to end: subscription, keys, token.
  CtlOk({"subscription", "create", "AliceApp", "Chats:1.0.0", "--plan", "AsyncUnlimited"}, alice);
  CtlOk({"keys", "generate", "AliceApp", "--type", "PRODUCTION"}, alice);
  EXPECT_NE(CtlOk({"token", "AliceApp", "--type", "PRODUCTION"}, alice).find("."), std::string::npos);
  std::string subs = CtlOk({"subscription", "list"}, bob);
  EXPECT_EQ(subs.find("AliceApp"), std::string::npos) << subs;
  // A creator has no subscriber role.
  EXPECT_NE(CtlFails({"app", "list"}, carl).find("ListApplications needs the subscriber role"), std::string::npos);

  // The audit log names the caller of each change, including refused ones.
  std::string audit = CtlOk({"audit"});
  EXPECT_NE(audit.find("\tcarl\tCreateApi\tapi Chats:1.0.0\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\talice\tCreateApi\tapi Chats:1.0.0\tPERMISSION_DENIED"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tpat\tDeployRevision\t"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tadmin\tCreateUser\tuser alice\tOK"), std::string::npos) << audit;

  // Rotation: the old credential stops working at once; deletion too.
  std::string rotated = CtlOk({"user", "rotate", "bob"});
  EXPECT_NE(CtlFails({"app", "list"}, bob).find("missing or wrong admin credential"), std::string::npos);
  std::string fresh = rotated.substr(rotated.find("Credential: ") + 12, 69);
  std::ofstream(dir_ + "/bob.cred") << fresh << "\n";
  std::string out;
  EXPECT_EQ(Ctl({"--credential-file", dir_ + "/bob.cred", "app", "list"}, "", &out), 0) << out;
  EXPECT_NE(out.find("BobApp"), std::string::npos) << out;
  EXPECT_NE(CtlFails({"user", "delete", "bob"}, "").find("owns applications (BobApp)"), std::string::npos);
  CtlOk({"app", "delete", "BobApp"}, fresh);
  CtlOk({"user", "delete", "bob"});
  EXPECT_NE(CtlFails({"app", "list"}, fresh).find("missing or wrong admin credential"), std::string::npos);
}

TEST_F(AgentRoles, AdminApiAndTokenEndpointOverTlsVerifiedByTheCa) {
  // A test CA and a server certificate for localhost / 127.0.0.1, with the openssl CLI.
  std::string d = dir_;
  ASSERT_EQ(Run("cd " + d +
                " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=wsgate-test-ca"
                " 2>/dev/null"
                " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null"
                " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext"
                " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2"
                " -extfile san.ext 2>/dev/null"
                " && openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other"
                " 2>/dev/null"),
            0);
  StartAgent({"--tls-cert", d + "/server.pem", "--tls-key", d + "/server.key"});
  EXPECT_NE(agent_->output().find("with TLS; token endpoint on https://"), std::string::npos) << agent_->output();

  std::string out;
  EXPECT_EQ(Ctl({"--ca-file", d + "/ca.pem", "status"}, "", &out, "localhost"), 0) << out;
  EXPECT_EQ(Ctl({"--ca-file", d + "/ca.pem", "user", "create", "sam", "--role", "subscriber"}, "", &out), 0) << out;
  std::string sam = out.substr(out.find("Credential: ") + 12, 69);
  EXPECT_EQ(Ctl({"--ca-file", d + "/ca.pem", "app", "create", "SamApp"}, sam, &out), 0) << out;
  EXPECT_EQ(Ctl({"--ca-file", d + "/ca.pem", "keys", "generate", "SamApp", "--type", "PRODUCTION"}, sam, &out), 0) << out;
  auto field = [&](const std::string& label) {
    size_t at = out.find(label);
    EXPECT_NE(at, std::string::npos) << out;
    std::string v = out.substr(at + label.size(), out.find('\n', at) - at - label.size());
    return v.substr(v.find_first_not_of(' '));
  };
  std::string key = field("Consumer key:"), secret = field("Consumer secret:");
  // Not verified by the right CA, or plaintext: refused.
  EXPECT_EQ(Ctl({"--ca-file", d + "/other.pem", "status"}, "", &out), 1) << out;
  EXPECT_EQ(Ctl({"status"}, "", &out), 1) << out;
  // The token endpoint is HTTPS with the same certificate.
  std::string token = Curl({"--cacert", d + "/ca.pem", "-u", key + ":" + secret, "-d", "grant_type=client_credentials",
                            "https://127.0.0.1:" + token_port_ + "/oauth2/token"});
  EXPECT_EQ(token.substr(token.size() - 3), "200") << token;
  EXPECT_NE(token.find("\"access_token\""), std::string::npos) << token;
  std::string wrong_ca = Curl({"--cacert", d + "/other.pem", "https://127.0.0.1:" + token_port_ + "/.well-known/jwks.json"});
  EXPECT_EQ(wrong_ca.substr(wrong_ca.size() - 3), "000") << wrong_ca;
  std::string plain = Curl({"http://127.0.0.1:" + token_port_ + "/.well-known/jwks.json"});
  EXPECT_NE(plain.substr(plain.size() - 3), "200") << plain;
  // The agent still answers after those failed handshakes.
  std::string jwks = Curl({"--cacert", d + "/ca.pem", "https://localhost:" + token_port_ + "/.well-known/jwks.json"});
  EXPECT_EQ(jwks.substr(jwks.size() - 3), "200") << jwks;
}

TEST_F(AgentRoles, NonLoopbackListenersNeedTlsOrInsecureListen) {
  for (const char* flag : {"--admin-listen", "--token-listen"}) {
    Subprocess p({WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--engine", "", "--data-dir", dir_ + "/data", flag == std::string("--admin-listen") ? "--token-listen" : "--admin-listen",
                  "127.0.0.1:0", flag, "0.0.0.0:0"});
    EXPECT_EQ(p.Wait(kTimeoutMs), 2) << p.output();
    EXPECT_NE(p.output().find(std::string(flag) + " 0.0.0.0:0: refusing to serve credentials in plaintext off this host"),
              std::string::npos)
        << p.output();
  }
  {
    Subprocess p({WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--engine", "", "--data-dir", dir_ + "/data", "--admin-listen", "0.0.0.0:0", "--token-listen",
                  "127.0.0.1:0", "--tls-cert", dir_ + "/missing.pem", "--tls-key", dir_ + "/missing.key"});
    EXPECT_EQ(p.Wait(kTimeoutMs), 2) << p.output();
    EXPECT_NE(p.output().find("--tls-cert " + dir_ + "/missing.pem: cannot read it"), std::string::npos) << p.output();
  }
  // --insecure-listen is the operator's explicit choice.
  StartAgent({"--admin-listen", "0.0.0.0:0", "--insecure-listen"});
  std::string out;
  EXPECT_EQ(Ctl({"status"}, "", &out), 0) << out;
}

}  // namespace

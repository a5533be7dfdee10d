// File: tools/wsgatectl/commands/keys.cc — `wsgatectl keys ...`: an application's consumer
// key and secret, one pair per key type.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/text.h"

namespace wsgate::tools::ctl {
namespace {

struct GenerateFlags {
  std::string type = "PRODUCTION";
  bool regenerate = false;
  void Register(common::FlagParser& f) {
    f.AddString("type", &type, "PRODUCTION or SANDBOX", "TYPE");
    f.AddBool("regenerate", &regenerate, "replace existing keys (their tokens stop working)");
  }
};

absl::Status Generate(Ctx& ctx, const GenerateFlags& flags) {
  absl::StatusOr<v1::KeyType> type = ParseKeyType(flags.type);
  if (!type.ok()) return type.status();
  v1::GenerateKeysRequest req;
  req.set_application(ctx.args[0]);
  req.set_key_type(*type);
  req.set_regenerate(flags.regenerate);
  v1::KeyPair resp;
  if (absl::Status s = Call(ctx, &Stub::GenerateKeys, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Consumer key:    ", resp.consumer_key(), "\nConsumer secret: ", resp.consumer_secret(),
                                "\n(the secret is shown only now; keep it safe)"));
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ApplicationRef req;
  req.set_application(ctx.args[0]);
  v1::ListKeysResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListKeys, req, resp); !s.ok()) return s;
  std::string text = resp.keys().empty() ? "no keys" : "";
  if (!resp.idp_clients().empty() && text == "no keys") text.clear();
  for (const auto& k : resp.keys()) absl::StrAppend(&text, v1::KeyType_Name(k.key_type()), "\t", k.consumer_key(), "\n");
  for (const auto& c : resp.idp_clients())
    absl::StrAppend(&text, v1::KeyType_Name(c.key_type()), "\t", c.client_id(), "\t(idp ", c.idp(), ")\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

struct DeleteFlags {
  std::string type = "PRODUCTION";
  void Register(common::FlagParser& f) { f.AddString("type", &type, "PRODUCTION or SANDBOX", "TYPE"); }
};

absl::Status Delete(Ctx& ctx, const DeleteFlags& flags) {
  absl::StatusOr<v1::KeyType> type = ParseKeyType(flags.type);
  if (!type.ok()) return type.status();
  v1::DeleteKeysRequest req;
  req.set_application(ctx.args[0]);
  req.set_key_type(*type);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteKeys, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, "Deleted " + flags.type + " keys of " + ctx.args[0]);  // as typed, e.g. "sandbox"
  return absl::OkStatus();
}

// Issue 14 item 6: an external identity provider's client id as one of the application's keys.
struct IdpClientFlags {
  std::string idp, client_id, type = "PRODUCTION";
  void Register(common::FlagParser& f) {
    f.AddString("idp", &idp, "the identity provider (`wsgatectl idp list`)", "NAME");
    f.AddString("client-id", &client_id, "the provider's client id (its tokens' client id claim)", "CLIENT");
    f.AddString("key-type", &type, "PRODUCTION or SANDBOX", "TYPE");
  }
  absl::Status Check() const {
    if (idp.empty()) return absl::InvalidArgumentError("--idp: required (the identity provider's name)");
    if (client_id.empty()) return absl::InvalidArgumentError("--client-id: required (the provider's client id)");
    return absl::OkStatus();
  }
};

absl::Status RegisterIdp(Ctx& ctx, const IdpClientFlags& flags) {
  if (absl::Status s = flags.Check(); !s.ok()) return s;
  absl::StatusOr<v1::KeyType> type = ParseKeyType(flags.type);
  if (!type.ok()) return absl::InvalidArgumentError(absl::StrCat("--key-type: ", type.status().message()));
  v1::RegisterIdpClientRequest req;
  req.set_application(ctx.args[0]);
  req.set_idp(flags.idp);
  req.set_client_id(flags.client_id);
  req.set_key_type(*type);
  v1::IdpClient resp;
  if (absl::Status s = Call(ctx, &Stub::RegisterIdpClient, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Registered client ", resp.client_id(), " of idp ", resp.idp(), " as ",
                                v1::KeyType_Name(resp.key_type()), " key of ", resp.application()));
  return absl::OkStatus();
}

absl::Status UnregisterIdp(Ctx& ctx, const IdpClientFlags& flags) {
  if (absl::Status s = flags.Check(); !s.ok()) return s;
  v1::UnregisterIdpClientRequest req;
  req.set_application(ctx.args[0]);
  req.set_idp(flags.idp);
  req.set_client_id(flags.client_id);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::UnregisterIdpClient, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Unregistered client ", flags.client_id, " of idp ", flags.idp,
                                " (its live connections are closed)"));
  return absl::OkStatus();
}

}  // namespace

void AddKeysCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("keys generate", "APP --type PRODUCTION|SANDBOX",
                                 "create the consumer key and secret (the secret is shown once)", 1, 1, &Generate));
  commands.push_back(MakeCommand("keys list", "APP", "list an application's consumer keys", 1, 1, &List));
  commands.push_back(
      MakeCommand("keys delete", "APP --type TYPE", "delete a consumer key (its tokens stop working)", 1, 1, &Delete));
  commands.push_back(MakeCommand("keys register", "APP --idp NAME --client-id CLIENT [--key-type TYPE]",
                                 "accept an identity provider's tokens for this client as the app's key", 1, 1,
                                 &RegisterIdp));
  commands.push_back(MakeCommand("keys unregister", "APP --idp NAME --client-id CLIENT",
                                 "stop accepting them (live connections close 4001)", 1, 1, &UnregisterIdp));
}

}  // namespace wsgate::tools::ctl

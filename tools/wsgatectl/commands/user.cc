// File: tools/wsgatectl/commands/user.cc — `wsgatectl user create|list|delete|rotate|whoami`:
// admin users with WSO2's roles (admin, creator, publisher, subscriber). create and rotate print
// the user's credential, the only time it is shown (the agent keeps its SHA-256).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

struct UserFlags {
  std::vector<std::string> roles;
  void Register(common::FlagParser& f) {
    f.AddList("role", &roles, "admin, creator, publisher or subscriber; a comma list or repeated (required)",
              "ROLE[,ROLE]");
  }
};

std::string CredentialText(const v1::UserCredential& c) {
  return absl::StrCat("User ", c.user().name(), " (", absl::StrJoin(c.user().roles(), ", "), ")\n",
                      "Credential: ", c.credential(), "\n",
                      "Shown once: store it now (e.g. WSGATE_ADMIN_TOKEN, or a 0600 file for --credential-file).");
}

absl::Status Create(Ctx& ctx, const UserFlags& flags) {
  if (flags.roles.empty())
    return absl::InvalidArgumentError("--role: give the user's roles (admin, creator, publisher, subscriber)");
  v1::CreateUserRequest req;
  req.set_name(ctx.args[0]);
  for (const auto& r : flags.roles) req.add_roles(r);
  v1::UserCredential resp;
  if (absl::Status s = Call(ctx, &Stub::CreateUser, req, resp); !s.ok()) return s;
  Print(ctx, resp, CredentialText(resp));
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ListUsersResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListUsers, v1::Empty(), resp); !s.ok()) return s;
  std::string text;
  for (const auto& u : resp.users())
    absl::StrAppend(&text, u.name(), "\t", absl::StrJoin(u.roles(), ","),
                    u.created_unix_ms() == 0 ? "\t(DATA_DIR/admin.token)" : "", "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

absl::Status Delete(Ctx& ctx) {
  v1::UserRef req;
  req.set_name(ctx.args[0]);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteUser, req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat("Deleted user ", ctx.args[0], " (its credential no longer works)"));
  return absl::OkStatus();
}

absl::Status Rotate(Ctx& ctx) {
  v1::UserRef req;
  req.set_name(ctx.args[0]);
  v1::UserCredential resp;
  if (absl::Status s = Call(ctx, &Stub::RotateUserCredential, req, resp); !s.ok()) return s;
  Print(ctx, resp, CredentialText(resp) + "\nThe old credential no longer works.");
  return absl::OkStatus();
}

absl::Status WhoAmI(Ctx& ctx) {
  v1::User resp;
  if (absl::Status s = Call(ctx, &Stub::GetCurrentUser, v1::Empty(), resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat(resp.name(), "\t", absl::StrJoin(resp.roles(), ",")));
  return absl::OkStatus();
}

}  // namespace

void AddUserCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("user create", "NAME --role ROLE[,ROLE]",
                                 "a user with roles; prints its credential once (admin)", 1, 1, &Create));
  commands.push_back(MakeCommand("user list", "", "users and their roles (admin)", 0, 0, &List));
  commands.push_back(MakeCommand("user delete", "NAME", "delete a user (one that owns no applications; admin)", 1, 1,
                                 &Delete));
  commands.push_back(MakeCommand("user rotate", "NAME", "a new credential for a user; the old one stops working (admin)",
                                 1, 1, &Rotate));
  commands.push_back(MakeCommand("user whoami", "", "the user this credential is, and its roles", 0, 0, &WhoAmI));
}

}  // namespace wsgate::tools::ctl

// File: tools/wsgatectl/commands/signing_key.cc — `wsgatectl signing-key ...`: the keys the
// agent signs access tokens with.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/text.h"

namespace wsgate::tools::ctl {
namespace {

struct RotateFlags {
  std::string alg = "RS256";
  void Register(common::FlagParser& f) { f.AddString("alg", &alg, "RS256, ES256 or EdDSA", "ALG"); }
};

absl::Status Rotate(Ctx& ctx, const RotateFlags& flags) {
  absl::StatusOr<v1::SigningAlgorithm> alg = ParseSigningAlgorithm(flags.alg);
  if (!alg.ok()) return alg.status();
  v1::RotateSigningKeyRequest req;
  req.set_algorithm(*alg);
  v1::SigningKeyInfo resp;
  if (absl::Status s = Call(ctx, &Stub::RotateSigningKey, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, "New signing key " + resp.kid());
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ListSigningKeysResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListSigningKeys, v1::Empty(), resp); !s.ok()) return s;
  std::string text;
  for (const auto& k : resp.keys())
    absl::StrAppend(&text, k.kid(), "\t", v1::SigningAlgorithm_Name(k.algorithm()), k.active() ? "\tactive" : "\tretiring",
                    "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

}  // namespace

void AddSigningKeyCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("signing-key rotate", "[--alg RS256|ES256|EdDSA]",
                                 "sign new tokens with a new key (old tokens stay valid)", 0, 0, &Rotate));
  commands.push_back(MakeCommand("signing-key list", "", "list signing keys", 0, 0, &List));
}

}  // namespace wsgate::tools::ctl

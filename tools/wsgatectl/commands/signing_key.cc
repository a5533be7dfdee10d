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
  std::string alg;
  bool backend = false;
  void Register(common::FlagParser& f) {
    f.AddString("alg", &alg, "RS256, ES256 or EdDSA (default RS256; ES256 with --backend)", "ALG");
    f.AddBool("backend", &backend, "rotate the backend-signing key (backend JWTs) instead of the token key");
  }
};

absl::Status Rotate(Ctx& ctx, const RotateFlags& flags) {
  absl::StatusOr<v1::SigningAlgorithm> alg =
      ParseSigningAlgorithm(flags.alg.empty() ? (flags.backend ? "ES256" : "RS256") : flags.alg);
  if (!alg.ok()) return alg.status();
  v1::RotateSigningKeyRequest req;
  req.set_algorithm(*alg);
  req.set_backend(flags.backend);
  v1::SigningKeyInfo resp;
  if (absl::Status s = Call(ctx, &Stub::RotateSigningKey, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, (flags.backend ? "New backend-signing key " : "New signing key ") + resp.kid());
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ListSigningKeysResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListSigningKeys, v1::Empty(), resp); !s.ok()) return s;
  std::string text;
  for (const auto& k : resp.keys())
    absl::StrAppend(&text, k.kid(), "\t", v1::SigningAlgorithm_Name(k.algorithm()), k.active() ? "\tactive" : "\tretiring",
                    k.backend() ? "\tbackend JWTs" : "\ttokens", "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

}  // namespace

void AddSigningKeyCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("signing-key rotate", "[--alg RS256|ES256|EdDSA] [--backend]",
                                 "sign new tokens (--backend: backend JWTs) with a new key (old ones stay valid)", 0, 0,
                                 &Rotate));
  commands.push_back(MakeCommand("signing-key list", "", "list signing keys", 0, 0, &List));
}

}  // namespace wsgate::tools::ctl

// File: tools/wsgatectl/commands/snapshot.cc — `wsgatectl snapshot`: the config snapshot the
// agent pushes to one environment's engines (GetEngineSnapshot), as protobuf text format. With
// --standalone it is a complete file for `wsgate-engine --config FILE` (an engine without an
// agent), so nobody hand-writes token hashes as \xNN escapes; without it, the same for reading,
// with the vhosts' TLS private keys left out.
#include <fcntl.h>
#include <google/protobuf/text_format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

struct SnapshotFlags {
  std::string env;
  std::string file;
  bool standalone = false;
  void Register(common::FlagParser& f) {
    f.AddString("env", &env, "the gateway environment whose engines' config to write (default: the default one)",
                "ENV");
    f.AddString("file", &file, "write it to FILE (mode 0600) instead of stdout (also -f); --standalone needs it",
                "FILE");
    f.AddBool("standalone", &standalone,
              "a complete engine config, TLS private keys included: `wsgate-engine --config FILE` serves it "
              "without an agent (check it with `wsgate-engine --check-config FILE`)");
  }
};

// Writes `text` to `path`, created or truncated with mode 0600 (it may hold private keys).
absl::Status WritePrivateFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("--file ", path, ": cannot be written: ", strerror(errno)));
  bool ok = fchmod(fd, 0600) == 0;  // an existing file keeps its mode otherwise
  for (size_t at = 0; ok && at < text.size();) {
    ssize_t n = write(fd, text.data() + at, text.size() - at);
    if (n <= 0) ok = false;
    else at += static_cast<size_t>(n);
  }
  int error = errno;
  if (close(fd) != 0) ok = false;
  if (!ok) return absl::DataLossError(absl::StrCat("--file ", path, ": write failed: ", strerror(error)));
  return absl::OkStatus();
}

absl::Status Write(Ctx& ctx, const SnapshotFlags& flags) {
  if (flags.standalone && flags.file.empty())
    return absl::InvalidArgumentError(
        "--standalone needs --file FILE (-f): the file holds TLS private keys and token hashes, so it is written "
        "mode 0600 rather than to a terminal");
  v1::EnvironmentRef ref;
  ref.set_name(flags.env);
  v1::Snapshot snapshot;
  if (absl::Status s = Call(ctx, &Stub::GetEngineSnapshot, ref, snapshot); !s.ok()) return s;
  int keys_left_out = 0;
  if (!flags.standalone) {
    for (auto& vhost : *snapshot.mutable_vhosts()) {
      if (vhost.tls().key_pem().empty()) continue;
      vhost.mutable_tls()->clear_key_pem();
      ++keys_left_out;
    }
    if (!snapshot.backend_signing_key().private_key_pem().empty()) {  // issue 14 item 7
      snapshot.mutable_backend_signing_key()->clear_private_key_pem();
      ++keys_left_out;
    }
  }
  std::string env = flags.env.empty() ? "the default environment" : absl::StrCat("environment '", flags.env, "'");
  std::string text;
  if (flags.standalone) {
    text = absl::StrCat("# wsgate.v1.Snapshot of ", env, ", config version ", snapshot.version(),
                        ", written by `wsgatectl snapshot --standalone`.\n"
                        "# Serve it without an agent: wsgate-engine --config FILE (SIGHUP reloads it);\n"
                        "# check it first: wsgate-engine --check-config FILE. Tokens the agent issued stay valid\n"
                        "# (its public signing keys and the opaque tokens' SHA-256 are below); new ones need a\n"
                        "# new snapshot. It holds the vhosts' TLS private keys: keep it mode 0600.\n");
  } else {
    text = absl::StrCat("# wsgate.v1.Snapshot of ", env, ", config version ", snapshot.version(),
                        keys_left_out > 0 ? absl::StrCat(" (", keys_left_out,
                                                         " private key(s) (vhost TLS, backend JWT) left out: use --standalone "
                                                         "for a file an engine can serve)")
                                          : std::string(),
                        "\n");
  }
  std::string body;
  google::protobuf::TextFormat::Printer printer;
  printer.SetUseUtf8StringEscaping(true);
  printer.PrintToString(snapshot, &body);
  text += body;
  if (ctx.json() && flags.file.empty()) {
    Print(ctx, snapshot, text);
    return absl::OkStatus();
  }
  if (flags.file.empty()) {
    std::cout << text;
    return absl::OkStatus();
  }
  if (absl::Status s = WritePrivateFile(flags.file, text); !s.ok()) return s;
  std::cout << "wrote " << flags.file << ": " << env << ", config version " << snapshot.version() << ", "
            << snapshot.apis_size() << " API(s), " << snapshot.vhosts_size() << " vhost(s)"
            << (flags.standalone ? absl::StrCat("; serve it with: wsgate-engine --config ", flags.file) : std::string())
            << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddSnapshotCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("snapshot", "[--env ENV] [--standalone -f FILE]",
                                 "the config the agent pushes to ENV's engines; --standalone: a file `wsgate-engine "
                                 "--config` serves without an agent",
                                 0, 0, &Write));
}

}  // namespace wsgate::tools::ctl

// File: agent/paths.cc
#include "agent/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agent/signer.h"

namespace wsgate::agent {

std::string DefaultDataDir() {
  if (const char* home = std::getenv("WSGATE_HOME"); home && *home) return home;
  const char* user_home = std::getenv("HOME");
  return absl::StrCat(user_home && *user_home ? user_home : "/tmp", "/.local/state/wsgate");
}

absl::Status EnsurePrivateDir(const std::string& dir) {
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at != dir.size() && dir[at] != '/') continue;
    std::string part = dir.substr(0, at);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return absl::PermissionDeniedError(absl::StrCat("--data-dir: cannot create ", part, ": ", strerror(errno)));
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return absl::FailedPreconditionError(absl::StrCat("--data-dir: ", dir, " is not a directory"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> AdminCredential(const std::string& dir, bool create) {
  std::string path = dir + "/admin.token";
  std::ifstream in(path);
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    std::string token = buf.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) return absl::DataLossError(absl::StrCat(path, " is empty"));
    return token;
  }
  if (!create)
    return absl::NotFoundError(absl::StrCat("no admin credential at ", path,
                                            " (is the agent's data directory elsewhere? use --data-dir, WSGATE_HOME or "
                                            "WSGATE_ADMIN_TOKEN)"));
  std::string token = RandomHex(32);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot create ", path, ": ", strerror(errno)));
  std::string line = token + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok) return absl::DataLossError(absl::StrCat("cannot write ", path));
  return token;
}

}  // namespace wsgate::agent

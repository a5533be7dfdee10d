// File: agent/paths.cc
#include "agent/paths.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/postgres.h"
#include "agent/signer.h"
#include "agent/store.h"
#include "engine/common/log.h"

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
  // The catalog holds the private signing keys: nobody but this user may read or list it.
  if ((st.st_mode & 077) != 0) {
    if (chmod(dir.c_str(), st.st_mode & 0700) != 0)
      return absl::PermissionDeniedError(
          absl::StrFormat("--data-dir: %s is accessible to other users (mode %o) and cannot be made private: %s; "
                          "chmod 700 it or choose another directory",
                          dir, st.st_mode & 0777, strerror(errno)));
    WSGATE_LOG(kWarning, "--data-dir %s was accessible to other users (mode %o); tightened to %o", dir,
               st.st_mode & 0777, st.st_mode & 0700);
  }
  for (const char* name : {"catalog.db", "catalog.db-wal", "catalog.db-shm", "admin.token", "agent.lock"}) {
    std::string path = absl::StrCat(dir, "/", name);
    struct stat file;
    if (stat(path.c_str(), &file) != 0 || (file.st_mode & 077) == 0) continue;
    if (chmod(path.c_str(), file.st_mode & 0700) != 0)
      return absl::PermissionDeniedError(absl::StrCat("cannot make ", path, " private (chmod 600): ", strerror(errno)));
    WSGATE_LOG(kWarning, "%s was readable by other users (mode %o); tightened to %o", path, file.st_mode & 0777,
               file.st_mode & 0700);
  }
  return absl::OkStatus();
}

absl::Status LockDataDir(const std::string& dir) {
  std::string path = dir + "/agent.lock";
  // Kept open (and locked) until the process exits; the kernel drops the lock even on kill -9.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    char pid[32] = "";
    ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
    close(fd);
    std::string holder(pid, n > 0 ? static_cast<size_t>(n) : 0);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (error != EWOULDBLOCK) return absl::UnavailableError(absl::StrCat("cannot lock ", path, ": ", strerror(error)));
    return absl::FailedPreconditionError(absl::StrCat("another wsgate-agent (pid ", holder.empty() ? "unknown" : holder,
                                                      ") holds the data directory ", dir, " (", path,
                                                      "); stop it first, or give this one another --data-dir"));
  }
  std::string line = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
    close(fd);
    return absl::DataLossError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();  // fd deliberately stays open: it is the lock
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

absl::StatusOr<std::string> CatalogTarget(const std::string& flag, const std::string& data_dir) {
  if (flag.empty()) return data_dir + "/catalog.db";
  absl::StatusOr<StoreTarget> t = ParseStoreTarget(flag);
  if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat("--catalog: ", t.status().message()));
  return flag;
}

std::string CatalogOpenError(const std::string& target, const absl::Status& status) {
  absl::StatusOr<StoreTarget> t = ParseStoreTarget(target);
  if (!t.ok() || t->dialect == Dialect::kSqlite) return std::string(status.message());
  if (absl::IsInvalidArgument(status))
    return absl::StrCat("--catalog: ", status.message(),
                        " (the form is postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=...])");
  if (absl::IsUnavailable(status))
    return absl::StrCat("--catalog ", RedactedUri(target), ": ", status.message(),
                        " (is PostgreSQL running there, and may this user connect to that database? "
                        "create it with `createdb -O USER DB`, or fix --catalog)");
  return absl::StrCat("--catalog ", RedactedUri(target), ": ", status.message());
}

}  // namespace wsgate::agent

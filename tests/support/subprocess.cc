// File: tests/support/subprocess.cc
#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace wsgate::testing {
namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& user) {
  // Looked up before fork: getpwnam is not async-signal-safe.
  const passwd* pw = user.empty() ? nullptr : ::getpwnam(user.c_str());
  if (!user.empty() && pw == nullptr) return;
  const uid_t uid = pw ? pw->pw_uid : 0;
  const gid_t gid = pw ? pw->pw_gid : 0;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (pw != nullptr && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) _exit(126);
    if (pw != nullptr) ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // changing credentials cleared it
    if (::getppid() != parent) _exit(127);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  ::fcntl(stdout_fd_, F_SETFL, O_NONBLOCK);
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && exit_status_ < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void Subprocess::Drain(int timeout_ms) {
  if (stdout_fd_ < 0) return;
  pollfd p{stdout_fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(stdout_fd_, buf, sizeof(buf));
    if (n > 0) {
      output_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {  // every writer closed
      ::close(stdout_fd_);
      stdout_fd_ = -1;
    }
    return;
  }
}

const std::string& Subprocess::output() {
  Drain(0);
  return output_;
}

bool Subprocess::WaitForOutput(const std::string& needle, int timeout_ms, size_t* from) {
  int64_t deadline = NowMs() + timeout_ms;
  size_t start = from ? *from : 0;
  while (true) {
    size_t at = output_.find(needle, start);
    if (at != std::string::npos) {
      if (from) *from = at + needle.size();
      return true;
    }
    int64_t left = deadline - NowMs();
    if (left <= 0 || stdout_fd_ < 0) return false;
    Drain(static_cast<int>(std::min<int64_t>(left, 50)));
  }
}

size_t Subprocess::CountInOutput(const std::string& needle) {
  Drain(0);
  size_t count = 0;
  for (size_t at = output_.find(needle); at != std::string::npos; at = output_.find(needle, at + 1)) ++count;
  return count;
}

bool Subprocess::WriteStdin(const std::string& text) {
  if (stdin_fd_ < 0) return false;
  return ::write(stdin_fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

void Subprocess::CloseStdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

void Subprocess::Signal(int sig) {
  if (pid_ > 0 && exit_status_ < 0) ::kill(pid_, sig);
}

int Subprocess::Wait(int timeout_ms) {
  if (exit_status_ >= 0) return exit_status_;
  int64_t deadline = NowMs() + timeout_ms;
  while (true) {
    int status;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      Drain(0);
      return exit_status_;
    }
    if (NowMs() >= deadline) return -1;
    Drain(20);
    if (stdout_fd_ < 0) ::usleep(10000);
  }
}

int Subprocess::NumberAfter(const std::string& marker, int timeout_ms, size_t* from) {
  if (!WaitForOutput(marker, timeout_ms, from)) return 0;
  return std::atoi(output().c_str() + *from);
}

int RunToEnd(const std::vector<std::string>& argv, int timeout_ms, std::string* out) {
  Subprocess p(argv);
  int code = p.Wait(timeout_ms);
  *out = p.output();
  while (!out->empty() && out->back() == '\n') out->pop_back();
  return code;
}

}  // namespace wsgate::testing

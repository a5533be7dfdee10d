// File: tests/support/subprocess.h
//
// Runs a real program for end-to-end tests: stdin/stdout/stderr on pipes (stdout and stderr
// merged), waits bounded by timeouts, and the child dies with the test (PR_SET_PDEATHSIG) so a
// crashed test leaves no process behind.
//
//   Subprocess backend({"/path/chat-backend", "--port", "0"});
//   ASSERT_TRUE(backend.WaitForOutput("Notifications on:", 5000));
//   backend.Signal(SIGTERM);
//   EXPECT_EQ(backend.Wait(3000), 0);
#pragma once

#include <string>
#include <vector>

namespace wsgate::testing {

class Subprocess {
 public:
  // `env`: extra NAME=VALUE entries on top of this process's environment. `user`: run as that
  // system user (when this process is root: initdb and postgres refuse root).
  explicit Subprocess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                      const std::string& user = "");
  ~Subprocess();  // SIGKILLs the child if it still runs
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool started() const { return pid_ > 0; }
  // Everything the child printed so far (stdout + stderr).
  const std::string& output();
  // Waits until output() contains `needle` (searching from `*from` if given, which is advanced
  // past the match). False on timeout or if the child exited first.
  bool WaitForOutput(const std::string& needle, int timeout_ms, size_t* from = nullptr);
  // Counts occurrences of `needle` in the output.
  size_t CountInOutput(const std::string& needle);
  bool WriteStdin(const std::string& text);
  void CloseStdin();
  void Signal(int sig);
  // Exit status (or 128+signal), or -1 if it is still running after `timeout_ms`.
  int Wait(int timeout_ms);
  // The number printed right after `marker` (e.g. a port after "(port "), found as
  // WaitForOutput finds it; 0 on timeout.
  int NumberAfter(const std::string& marker, int timeout_ms, size_t* from);

 private:
  void Drain(int timeout_ms);
  int pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int exit_status_ = -1;
  std::string output_;
};

// Runs argv to completion (at most `timeout_ms`); its output, trailing newlines removed, in *out.
// Returns its exit status as Wait does.
int RunToEnd(const std::vector<std::string>& argv, int timeout_ms, std::string* out);

}  // namespace wsgate::testing

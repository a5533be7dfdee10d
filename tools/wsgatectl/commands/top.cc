// File: tools/wsgatectl/commands/top.cc — `wsgatectl top`: a live view of every engine's traffic
// per API (connections; new connections, frames each way, throttled, denied frames and errors
// per second), from the agent's GetTraffic polled every --interval (tools/wsgatectl/top_view.h
// computes and lays out the table).
//
// On a terminal it redraws in place (ANSI clear and home, cursor hidden) until q or Ctrl-C,
// then restores the terminal (cursor, echo, line mode). Elsewhere, or with --once / --count N,
// it prints plain tables one after another, so scripts and tests can read them.
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/top_view.h"

namespace wsgate::tools::ctl {
namespace {

volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

struct TopFlags {
  bool once = false;
  std::string interval = "2s";
  int64_t count = 0;
  std::string environment;
  void Register(common::FlagParser& f) {
    f.AddBool("once", &once, "print one table (rates over one --interval) and exit; same as --count 1");
    f.AddString("interval", &interval, "time between polls, 100ms to 1h (default 2s)", "DURATION");
    f.AddInt("count", &count, "print this many tables and exit (0: until q or Ctrl-C)", 0, 1000000);
    f.AddString("env", &environment, "only engines of this gateway environment", "ENV");
  }
};

// The terminal while the live view runs: cursor hidden, keys read one at a time without echo
// (so q quits), and SIGINT/SIGTERM turned into a stop; all undone by the destructor.
class LiveTerminal {
 public:
  explicit LiveTerminal(bool live) : live_(live) {
    struct sigaction sa = {};
    sa.sa_handler = OnStopSignal;  // no SA_RESTART: the wait in poll() returns at once
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    keys_ = live_ && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0;
    if (keys_) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // ISIG stays: Ctrl-C still stops
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    if (live_) std::cout << "\x1b[?25l" << std::flush;
  }
  ~LiveTerminal() {
    if (live_) std::cout << "\x1b[?25h" << std::flush;
    if (keys_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  // Waits `d`; false when the user asked to stop (q, Ctrl-C, SIGTERM) meanwhile.
  bool Wait(absl::Duration d) {
    absl::Time until = absl::Now() + d;
    while (!g_stop) {
      int64_t left_ms = absl::ToInt64Milliseconds(until - absl::Now());
      if (left_ms <= 0) return true;
      pollfd in = {STDIN_FILENO, POLLIN, 0};
      int n = poll(keys_ ? &in : nullptr, keys_ ? 1 : 0, static_cast<int>(left_ms));
      if (n > 0) {
        char c = 0;
        if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) return false;
      }
      if (n < 0 && errno != EINTR) return true;
    }
    return false;
  }
  void Draw(const std::string& table) {
    if (live_) std::cout << "\x1b[H\x1b[2J" << table << "(q or Ctrl-C to quit)" << std::flush;
    else std::cout << table << std::flush;
  }

 private:
  bool live_;
  bool keys_ = false;
  termios saved_ = {};
  struct sigaction old_int_ = {}, old_term_ = {};
};

absl::Status Top(Ctx& ctx, const TopFlags& flags) {
  absl::Duration interval;
  if (!absl::ParseDuration(flags.interval, &interval) || interval < absl::Milliseconds(100) ||
      interval > absl::Hours(1))
    return absl::InvalidArgumentError(
        absl::StrCat("--interval: '", flags.interval, "' is not a duration from 100ms to 1h (e.g. 2s, 500ms)"));
  if (flags.once && flags.count > 1)
    return absl::InvalidArgumentError("--once prints one table: give --once or --count N, not both");
  int64_t tables = flags.once ? 1 : flags.count;  // 0: until stopped
  bool live = tables == 0 && !ctx.json() && isatty(STDOUT_FILENO);
  v1::GetTrafficRequest req;
  req.set_environment(flags.environment);
  v1::GetTrafficResponse previous;
  if (absl::Status s = Call(ctx, &Stub::GetTraffic, req, previous); !s.ok()) return s;
  g_stop = 0;
  LiveTerminal term(live);
  for (int64_t printed = 0; tables == 0 || printed < tables; ++printed) {
    if (!term.Wait(interval)) break;
    v1::GetTrafficResponse latest;
    if (absl::Status s = Call(ctx, &Stub::GetTraffic, req, latest); !s.ok()) return s;
    if (ctx.json()) {
      Print(ctx, latest, "");  // the counters themselves; rates are for the text view
    } else {
      std::string text = FormatTop(ComputeTop(previous, latest), absl::ToUnixMillis(absl::Now()));
      if (!live && printed > 0) text.insert(0, "\n");  // tables one after another, a blank line between
      term.Draw(text);
    }
    previous = std::move(latest);
  }
  if (live) std::cout << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddTopCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("top", "[--once | --count N] [--interval 2s] [--env ENV]",
                                 "live traffic per API on every engine: connections, frames/s each way, throttled/s, "
                                 "errors/s",
                                 0, 0, &Top));
}

}  // namespace wsgate::tools::ctl

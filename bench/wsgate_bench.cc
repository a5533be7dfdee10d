// File: bench/wsgate_bench.cc — wsgate-bench, a WebSocket load generator on io_uring.
//
// Point it at any ws:// or wss:// URL whose server echoes messages (bench/compare starts
// chat-backend --echo behind each proxy):
//
//   wsgate-bench --url ws://127.0.0.1:9099/echo/1/x -H "Authorization: Bearer $T" --conns 50 --duration 10
//   wsgate-bench --url ... --rate 20000           # open loop: latency from each intended send time
//   wsgate-bench --url wss://... --insecure --mode handshake --conns 20
//
// Modes: closed (default; --inflight K messages outstanding per connection, for throughput),
// open (--rate R messages/s in total, paced; latency counts from the intended send time, so a
// stalled server cannot hide: no coordinated omission), handshake (each connection connects,
// upgrades, closes, repeats: upgrades/s), idle (open --conns connections and hold them).
// Workloads: echo (default: each connection gets its own messages back) or --fanout (open loop:
// the first connection of each thread sends, every other connection on the same URL — one chat
// room — receives each message; latency is per delivery).
// Every message carries a marker and its send time (ASCII, so text frames stay valid UTF-8);
// frames without the marker (a chat server's welcome texts) are ignored. Warm-up is excluded.
// Output: a short report and one JSON line (`--json-only` prints just the JSON): errors by cause
// (bench_stats.h), and in open loop the generator's own send lag (queued minus intended send time,
// p50/p99/max, as wrk2 reports it) with a warning when it is a visible share of the latency.
// Exit 1 when no upgrade succeeded, or in closed/open loop when no message came back.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_stats.h"
#include "bench/load_worker.h"
#include "engine/common/flags.h"
#include "engine/common/log_format.h"

using wsgate::bench::LoadWorker;
using wsgate::bench::NewLoadWorker;
using wsgate::bench::NowNs;
using wsgate::bench::Options;
using wsgate::bench::ParseUrl;
using wsgate::bench::Totals;
using wsgate::common::LogLevel;

int main(int argc, char** argv) {
  Options o;
  wsgate::common::FlagParser flags(
      "wsgate-bench",
      "A WebSocket load generator on io_uring: closed loop (throughput), open loop at a fixed rate (latency\n"
      "without coordinated omission; with the generator's own send lag), handshakes/s, or idle connections. The\n"
      "server must echo messages. Errors are counted by cause; exits 1 when every attempt failed or, in closed\n"
      "and open loop, when no message came back.");
  flags.AddString("url", &o.url, "ws://HOST:PORT/PATH or wss://...", "URL");
  flags.AddList("header", &o.headers, "an extra upgrade header, e.g. 'Authorization: Bearer T' (also -H)", "HEADER");
  flags.AddString("mode", &o.mode, "closed, open (with --rate), handshake or idle", "MODE");
  flags.AddInt("conns", &o.conns, "connections", 1, 1000000);
  flags.AddInt("size", &o.size, "message payload bytes (the first 20 carry a marker and the send time)", 20, 16 << 20);
  flags.AddInt("inflight", &o.inflight, "closed loop: messages outstanding per connection", 1, 1024);
  flags.AddInt("rate", &o.rate, "open loop: messages per second in total", 0, 100000000);
  flags.AddInt("threads", &o.threads, "worker threads, each with its own io_uring", 1, 256);
  std::string duration = "10", warmup = "2";
  flags.AddString("duration", &duration, "seconds to measure", "S");
  flags.AddString("warmup", &warmup, "seconds before measuring (excluded)", "S");
  bool text = false;
  flags.AddBool("text", &text, "send text frames (default binary)");
  flags.AddBool("fanout", &o.fanout,
                "chat-room fan-out (open loop): one sender per thread, every other connection on the URL receives");
  flags.AddBool("insecure", &o.insecure, "wss: do not verify the server's certificate");
  flags.AddString("ca-file", &o.ca_file, "wss: verify against this CA bundle", "FILE");
  flags.AddBool("tls-resume", &o.tls_resume,
                "wss: offer the session ticket of an earlier connection on each new one (TLS resumption; with "
                "--mode handshake, the report counts the handshakes that resumed)");
  flags.AddString("sources", &o.source_addresses, "127.0.0.1, or 'many' to spread over 127.0.0.1-250", "ADDR");
  flags.AddBool("json-only", &o.json_only, "print only the JSON line");
  std::vector<char*> args{argv[0]};
  std::vector<std::string> storage;
  for (int i = 1; i < argc; ++i) storage.push_back(std::string(argv[i]) == "-H" ? "--header" : argv[i]);
  for (auto& s : storage) args.push_back(s.data());
  if (int code = flags.ParseCommandLine(static_cast<int>(args.size()), args.data()); code >= 0) return code;
  o.binary = !text;
  o.duration = std::atof(duration.c_str());
  o.warmup = std::atof(warmup.c_str());
  if (o.url.empty()) {
    std::cerr << "wsgate-bench: --url is required (see --help)\n";
    return 2;
  }
  if (o.mode == "open" && o.rate == 0) {
    std::cerr << "wsgate-bench: --mode open needs --rate\n";
    return 2;
  }
  if (o.rate > 0) o.mode = "open";
  if (o.fanout && o.mode != "open") {
    std::cerr << "wsgate-bench: --fanout measures delivery latency in open loop: give --rate (messages/s sent in total)\n";
    return 2;
  }
  if (o.fanout && o.conns < 2 * o.threads) {
    std::cerr << "wsgate-bench: --fanout needs at least one receiver per sender: --conns >= 2 x --threads\n";
    return 2;
  }
  if (o.mode != "closed" && o.mode != "open" && o.mode != "handshake" && o.mode != "idle") {
    std::cerr << "wsgate-bench: --mode: '" << o.mode << "' is not closed, open, handshake or idle\n";
    return 2;
  }
  auto target = ParseUrl(o.url);
  if (!target.ok()) {
    std::cerr << "wsgate-bench: " << target.status().message() << "\n";
    return 2;
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_TIMERSLACK, 1UL);  // open-loop wake-ups on time, not 50 us late

  int64_t start = NowNs();
  int64_t measure_from = start + static_cast<int64_t>(o.warmup * 1e9);
  int64_t end = measure_from + static_cast<int64_t>(o.duration * 1e9);
  std::vector<std::unique_ptr<LoadWorker>> workers;
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < o.threads; ++t) {
    int64_t n = o.conns / o.threads + (t < o.conns % o.threads ? 1 : 0);
    workers.push_back(NewLoadWorker(o, *target, static_cast<int>(n), static_cast<int>(t)));
  }
  std::thread progress([&] {
    // Not with --json-only, nor between JSON log lines.
    if (o.json_only || wsgate::common::GetLogFormat() == wsgate::common::LogFormat::kJson) return;
    while (NowNs() < end) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      std::fprintf(stderr, "\r%s %.0f s", NowNs() < measure_from ? "warming up" : "measuring", (NowNs() - start) / 1e9);
    }
    std::fprintf(stderr, "\n");
  });
  for (auto& w : workers) threads.emplace_back([&, raw = w.get()] { raw->Run(start, measure_from, end); });
  for (auto& t : threads) t.join();
  progress.join();

  Totals total;
  int open = 0;
  for (auto& w : workers) {
    total.latency.Merge(w->totals().latency);
    total.send_lag.Merge(w->totals().send_lag);
    total.errors.Merge(w->totals().errors);
    total.opened += w->totals().opened;
    total.messages += w->totals().messages;
    total.sent += w->totals().sent;
    total.upgrades += w->totals().upgrades;
    total.resumed += w->totals().resumed;
    total.bytes += w->totals().bytes;
    open += w->open_connections();
  }
  double us = 1e-3;
  double rate = static_cast<double>(o.mode == "handshake" ? total.upgrades : total.messages) / o.duration;
  std::string json = absl::StrFormat(
      R"({"mode":"%s","workload":"%s","url":"%s","conns":%d,"size":%d,"duration_s":%.1f,"count":%d,"rate_per_s":%.0f,"sent_per_s":%.0f,"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"p999_us":%.1f,"max_us":%.1f,"errors":%d,"open_connections":%d,"errors_by_cause":%s)",
      o.mode, o.fanout ? "fanout" : "echo", o.url, o.conns, o.size, o.duration,
      o.mode == "handshake" ? total.upgrades : total.messages, rate, static_cast<double>(total.sent) / o.duration,
      total.latency.Percentile(50) * us, total.latency.Percentile(90) * us, total.latency.Percentile(99) * us,
      total.latency.Percentile(99.9) * us, total.latency.max() * us, total.errors.total(), open, total.errors.Json());
  bool open_loop = o.mode == "open";
  bool behind = wsgate::bench::GeneratorBehind(total.send_lag.Percentile(99), total.latency.Percentile(99));
  if (o.mode == "handshake" && o.url.rfind("wss://", 0) == 0) absl::StrAppend(&json, absl::StrFormat(R"(,"resumed":%d)", total.resumed));
  if (open_loop)
    absl::StrAppend(&json, absl::StrFormat(R"(,"send_lag_p50_us":%.1f,"send_lag_p99_us":%.1f,"send_lag_max_us":%.1f,"generator_behind":%s)",
                                           total.send_lag.Percentile(50) * us, total.send_lag.Percentile(99) * us,
                                           total.send_lag.max() * us, behind ? "true" : "false"));
  json += "}";
  if (!o.json_only) {
    std::printf("%s %s: %d connections, %d-byte messages, %.0f s measured\n", o.mode.c_str(), o.url.c_str(),
                static_cast<int>(o.conns), static_cast<int>(o.size), o.duration);
    std::string causes = total.errors.Summary();
    std::printf("  %s: %.0f/s   errors: %llu%s\n",
                o.mode == "handshake" ? "upgrades" : o.fanout ? "deliveries" : "messages", rate,
                static_cast<unsigned long long>(total.errors.total()),
                causes.empty() ? "" : absl::StrCat(" (", causes, ")").c_str());
    if (o.fanout) std::printf("  sent: %.0f/s\n", static_cast<double>(total.sent) / o.duration);
    if (o.mode == "handshake" && o.url.rfind("wss://", 0) == 0)
      std::printf("  TLS: %llu of %llu handshakes resumed a session%s\n", static_cast<unsigned long long>(total.resumed),
                  static_cast<unsigned long long>(total.upgrades), o.tls_resume ? "" : " (--tls-resume offers them)");
    std::printf("  latency p50 %.1f us  p90 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
                total.latency.Percentile(50) * us, total.latency.Percentile(90) * us, total.latency.Percentile(99) * us,
                total.latency.Percentile(99.9) * us, total.latency.max() * us);
    if (open_loop)
      std::printf("  send lag p50 %.1f us  p99 %.1f us  max %.1f us (when each message was queued, after its intended time)\n",
                  total.send_lag.Percentile(50) * us, total.send_lag.Percentile(99) * us, total.send_lag.max() * us);
  }
  std::printf("%s\n", json.c_str());
  if (open_loop && behind)
    wsgate::common::PrintDiagnostic(
        LogLevel::kWarning,
        absl::StrFormat("the load generator fell behind its schedule (send lag p99 %.1f us): the latency above "
                        "includes its own delay; use more --threads or a lower --rate",
                        total.send_lag.Percentile(99) * us));
  // Exit 1 when nothing worked, so that a script does not take an empty run for a result.
  if (total.opened == 0) {
    wsgate::common::PrintDiagnostic(LogLevel::kError,
                                    absl::StrCat("every attempt failed (",
                                                 total.errors.total() ? total.errors.Summary() : "no connection opened", ")"));
    return 1;
  }
  if ((o.mode == "closed" || o.mode == "open") && total.messages == 0) {
    wsgate::common::PrintDiagnostic(LogLevel::kError,
                                    absl::StrCat("no message came back in the measured time (",
                                                 o.fanout ? "is --url a chat room that relays to the other connections?"
                                                          : "does the server echo?",
                                                 ")"));
    return 1;
  }
  return 0;
}

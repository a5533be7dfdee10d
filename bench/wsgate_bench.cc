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
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_stats.h"
#include "engine/common/base64.h"
#include "engine/common/flags.h"
#include "engine/common/log_format.h"
#include "engine/io/uring.h"
#include "engine/tls/tls.h"
#include "engine/ws/frame.h"
#include "engine/ws/handshake.h"

namespace {

using Ring = wsgate::engine::io::Uring;
using wsgate::bench::ErrorTally;
using wsgate::common::LogLevel;
using wsgate::bench::Histogram;
using wsgate::engine::io::Tag;
namespace ws = wsgate::engine::ws;
namespace tls = wsgate::engine::tls;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Options {
  std::string url, mode = "closed";
  std::vector<std::string> headers;
  int64_t conns = 10, size = 64, inflight = 1, threads = 1;
  int64_t rate = 0;
  double duration = 10, warmup = 2;
  bool binary = true, insecure = false, json_only = false, fanout = false;
  std::string ca_file, source_addresses = "127.0.0.1";
};

struct Target {
  bool tls = false;
  std::string host, host_header, path;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
};

enum Op : uint8_t { kConnect = 1, kSend, kRecv };

struct Conn {
  int fd = -1;
  uint32_t generation = 0;
  enum State { kIdle, kConnecting, kUpgrading, kOpen } state = kIdle;
  std::unique_ptr<tls::TlsSession> tls;
  std::string out;        // bytes waiting to be sent (plaintext for ws, ciphertext for wss)
  std::string plain;      // wss: plaintext not yet accepted by TLS (during the handshake)
  std::string sending;    // the bytes of the send in flight
  bool send_inflight = false, recv_armed = false;
  std::string in;         // plaintext received, not yet parsed
  int64_t handshake_start = 0;
  int64_t next_send_ns = 0;  // open loop: the next intended send time
  std::string key_accept;
  int source_index = 0;
};

struct Totals {
  Histogram latency;
  Histogram send_lag;  // open loop: queued minus intended send time, per message
  ErrorTally errors;   // by cause, warm-up included
  uint64_t messages = 0, sent = 0, upgrades = 0, bytes = 0;
  uint64_t opened = 0;  // upgrades that succeeded, warm-up included (0: every attempt failed)
};

// The payload: "WSGB", the send time as 16 hex digits, then padding.
constexpr size_t kStampBytes = 20;

void Stamp(std::string* payload, int64_t ns) {
  static const char kHex[] = "0123456789abcdef";
  std::memcpy(payload->data(), "WSGB", 4);
  auto v = static_cast<uint64_t>(ns);
  for (int i = 15; i >= 0; --i, v >>= 4) (*payload)[4 + static_cast<size_t>(i)] = kHex[v & 15];
}

// The send time in a payload this tool stamped, or -1 for any other message.
int64_t ReadStamp(const char* p, size_t n) {
  if (n < kStampBytes || std::memcmp(p, "WSGB", 4) != 0) return -1;
  uint64_t v = 0;
  for (size_t i = 4; i < kStampBytes; ++i) {
    char c = p[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return static_cast<int64_t>(v);
}

class Worker {
 public:
  Worker(const Options& o, const Target& t, int conns, int thread_index)
      : o_(o), t_(t), conns_(static_cast<size_t>(conns)), index_(thread_index) {}

  void Run(int64_t start_ns, int64_t measure_from_ns, int64_t end_ns) {
    wsgate::engine::io::RingOptions ro;
    ro.entries = 4096;
    ro.buffer_count = 4096;
    ro.buffer_size = 16384;
    if (absl::Status s = ring_.Init(ro); !s.ok()) {
      wsgate::common::PrintDiagnostic(LogLevel::kError, s.message());
      totals_.errors.Add("io_uring setup");
      return;
    }
    if (t_.tls) {
      auto ctx = tls::ClientTlsContext::Create(o_.ca_file, o_.insecure || o_.ca_file.empty());
      if (!ctx.ok()) {
        wsgate::common::PrintDiagnostic(LogLevel::kError, ctx.status().message());
        totals_.errors.Add("TLS setup");
        return;
      }
      tls_ctx_ = *ctx;
    }
    payload_.assign(static_cast<size_t>(std::max<int64_t>(o_.size, kStampBytes)), 'x');
    measure_from_ = measure_from_ns;
    // Echo: the rate is spread over every connection. Fan-out: over the senders, one per thread.
    double senders = static_cast<double>(o_.fanout ? o_.threads : o_.conns);
    double per_conn_rate = o_.rate > 0 ? static_cast<double>(o_.rate) / senders : 0;
    interval_ns_ = per_conn_rate > 0 ? static_cast<int64_t>(1e9 / per_conn_rate) : 0;
    std::mt19937_64 rng(static_cast<uint64_t>(index_) * 7919 + 1);
    for (size_t i = 0; i < conns_.size(); ++i) {
      conns_[i].source_index = static_cast<int>((index_ * conns_.size() + i));
      conns_[i].next_send_ns = start_ns + (interval_ns_ > 0 ? static_cast<int64_t>(rng() % static_cast<uint64_t>(interval_ns_)) : 0);
      Connect(i);
    }
    while (NowNs() < end_ns) {
      // Open loop: wake exactly when the next message is due (a coarse tick would delay sends
      // and show up as latency); otherwise at least every millisecond to watch the clock.
      int64_t timeout_ns = 1000000;
      if (interval_ns_ > 0) timeout_ns = std::clamp<int64_t>(Pace() - NowNs(), 0, timeout_ns);
      ring_.SubmitAndDrainNs(timeout_ns, [&](const io_uring_cqe& cqe) { OnCompletion(cqe); });
    }
  }

  const Totals& totals() const { return totals_; }
  int open_connections() const {
    int n = 0;
    for (const auto& c : conns_) n += c.state == Conn::kOpen;
    return n;
  }

 private:
  bool Measuring() const { return NowNs() >= measure_from_; }

  void Connect(size_t i) {
    Conn& c = conns_[i];
    c.generation++;
    c.state = Conn::kConnecting;
    c.tls.reset();
    c.out.clear();
    c.plain.clear();
    c.in.clear();
    c.fd = socket(t_.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {  // EMFILE and such: this connection stays idle (retrying would spin)
      totals_.errors.Add(wsgate::bench::IoCause("socket", errno));
      c.state = Conn::kIdle;
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (t_.addr.ss_family == AF_INET && o_.source_addresses != "127.0.0.1") {
      // Spread connections over 127.0.0.x sources to go past one address's ephemeral ports.
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl((127u << 24) | (1u + static_cast<uint32_t>(c.source_index % 250)));
      bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof(src));
    }
    c.handshake_start = NowNs();
    if (!ring_.PrepConnect(c.fd, reinterpret_cast<const sockaddr*>(&t_.addr), t_.addr_len,
                           Tag{kConnect, c.generation, static_cast<uint32_t>(i)}))
      Close(i, "submission queue full");
  }

  // Ends connection i; a non-empty `error` counts as an error of that cause and reconnects.
  void Close(size_t i, std::string_view error = {}) {
    Conn& c = conns_[i];
    if (!error.empty()) totals_.errors.Add(error);
    if (c.fd >= 0) {
      shutdown(c.fd, SHUT_RDWR);  // ends the ops in flight (their generation is now stale)
      close(c.fd);
    }
    c.fd = -1;
    c.state = Conn::kIdle;
    c.send_inflight = c.recv_armed = false;
    if (o_.mode == "handshake" || !error.empty()) Connect(i);
  }

  void Queue(size_t i, const std::string& plain) {
    Conn& c = conns_[i];
    if (c.tls) {
      c.plain += plain;
      if (!c.plain.empty() && c.tls->Write(reinterpret_cast<const uint8_t*>(c.plain.data()), c.plain.size())) c.plain.clear();
      c.tls->TakeOutput(&c.out);
    } else {
      c.out += plain;
    }
    Flush(i);
  }

  void Flush(size_t i) {
    Conn& c = conns_[i];
    if (c.tls) c.tls->TakeOutput(&c.out);
    if (c.send_inflight || c.out.empty() || c.fd < 0) return;
    c.sending.swap(c.out);
    c.out.clear();
    c.send_inflight = ring_.PrepSend(c.fd, c.sending.data(), c.sending.size(), Tag{kSend, c.generation, static_cast<uint32_t>(i)});
    if (!c.send_inflight) Close(i, "submission queue full");
  }

  void SendMessage(size_t i, int64_t stamp_ns) {
    std::string p = payload_;
    Stamp(&p, stamp_ns);
    static const uint8_t kMask[4] = {0x11, 0x22, 0x33, 0x44};
    Queue(i, ws::EncodeFrame(o_.binary ? ws::kBinary : ws::kText, p, kMask));
    if (Measuring()) ++totals_.sent;
  }

  // Fan-out: the first connection of each thread sends; the others only receive.
  bool Sends(size_t i) const { return !o_.fanout || i == 0; }

  void OnOpen(size_t i) {
    Conn& c = conns_[i];
    c.state = Conn::kOpen;
    ++totals_.opened;
    if (Measuring() && o_.mode == "handshake") {
      ++totals_.upgrades;
      totals_.latency.Record(NowNs() - c.handshake_start);
    }
    if (o_.mode == "handshake") return Close(i);
    if (o_.mode == "closed")
      for (int64_t k = 0; k < o_.inflight; ++k) SendMessage(i, NowNs());
  }

  // Sends every message that is due; returns when the next one is.
  int64_t Pace() {
    int64_t now = NowNs();
    int64_t next = now + 1000000;
    for (size_t i = 0; i < conns_.size(); ++i) {
      Conn& c = conns_[i];
      if (c.state != Conn::kOpen || !Sends(i)) continue;
      while (c.next_send_ns <= now) {
        if (Measuring()) totals_.send_lag.Record(NowNs() - c.next_send_ns);
        SendMessage(i, c.next_send_ns);  // stamped with the intended time
        c.next_send_ns += interval_ns_;
      }
      next = std::min(next, c.next_send_ns);
    }
    return next;
  }

  void OnCompletion(const io_uring_cqe& cqe) {
    Tag tag = Tag::Decode(cqe.user_data);
    if (tag.slot >= conns_.size()) return;
    size_t i = tag.slot;
    Conn& c = conns_[i];
    bool stale = tag.generation != (c.generation & 0xFFFFFF);
    if (tag.op == kRecv && wsgate::engine::io::HasBuffer(cqe)) {
      uint16_t id = wsgate::engine::io::BufferId(cqe);
      ring_.NoteBufferTaken();
      if (!stale && cqe.res > 0) OnBytes(i, ring_.Buffer(id), static_cast<size_t>(cqe.res));
      ring_.Recycle(id);
      if (!stale && !wsgate::engine::io::HasMore(cqe)) {
        c.recv_armed = false;
        if (cqe.res > 0 || cqe.res == -ENOBUFS) Arm(i);
      }
      if (!stale && cqe.res == 0) Close(i, o_.mode == "handshake" ? "" : ClosedCause(c));
      return;
    }
    if (stale) return;
    switch (tag.op) {
      case kConnect:
        if (cqe.res < 0) return Close(i, wsgate::bench::ConnectCause(-cqe.res));
        Arm(i);
        if (t_.tls) {
          c.tls = std::make_unique<tls::TlsSession>(tls_ctx_->NewSsl(t_.host), false);
          c.tls->Connect();
        }
        StartUpgrade(i);
        return;
      case kSend:
        c.send_inflight = false;
        if (cqe.res < 0) return Close(i, wsgate::bench::IoCause("send", -cqe.res));
        if (static_cast<size_t>(cqe.res) < c.sending.size()) c.out.insert(0, c.sending.substr(static_cast<size_t>(cqe.res)));
        Flush(i);
        return;
      case kRecv:
        c.recv_armed = false;
        if (cqe.res == -ENOBUFS) return Arm(i);
        if (cqe.res == 0) return Close(i, ClosedCause(c));
        if (cqe.res < 0) return Close(i, wsgate::bench::IoCause("recv", -cqe.res));
        return;
      default:
        return;
    }
  }

  void Arm(size_t i) {
    Conn& c = conns_[i];
    if (c.recv_armed || c.fd < 0) return;
    c.recv_armed = ring_.PrepRecvMultishot(c.fd, Tag{kRecv, c.generation, static_cast<uint32_t>(i)});
    if (!c.recv_armed) Close(i, "submission queue full");
  }

  static std::string_view ClosedCause(const Conn& c) {
    return c.state == Conn::kOpen ? "closed by the server" : "closed by the server during the upgrade";
  }

  void StartUpgrade(size_t i) {
    Conn& c = conns_[i];
    c.state = Conn::kUpgrading;
    uint8_t nonce[16];
    for (auto& b : nonce) b = static_cast<uint8_t>(rng_());
    std::string key = wsgate::common::Base64Encode(nonce, sizeof(nonce));
    c.key_accept = ws::AcceptKey(key);
    std::string req = absl::StrCat("GET ", t_.path, " HTTP/1.1\r\nHost: ", t_.host_header,
                                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ", key,
                                   "\r\nSec-WebSocket-Version: 13\r\n");
    for (const auto& h : o_.headers) absl::StrAppend(&req, h, "\r\n");
    req += "\r\n";
    Queue(i, req);  // over TLS: buffered until the handshake completes
  }

  void OnBytes(size_t i, const uint8_t* data, size_t n) {
    Conn& c = conns_[i];
    if (c.tls) {
      c.tls->Feed(data, n);
      uint8_t buf[16384];
      size_t got;
      tls::TlsSession::Result r;
      while ((r = c.tls->Read(buf, sizeof(buf), &got)) == tls::TlsSession::kData) c.in.append(reinterpret_cast<char*>(buf), got);
      if (r == tls::TlsSession::kError) return Close(i, "TLS error");
      if (c.state == Conn::kUpgrading && c.tls->handshake_done()) Queue(i, "");  // push the buffered request
      Flush(i);
    } else {
      c.in.append(reinterpret_cast<const char*>(data), n);
    }
    if (c.state == Conn::kUpgrading) {
      size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      bool status_101 = c.in.compare(0, 12, "HTTP/1.1 101") == 0;
      if (!status_101 || c.in.find(c.key_accept) == std::string::npos) {
        if (errors_printed_++ < 3)
          wsgate::common::PrintDiagnostic(LogLevel::kWarning,
                                          absl::StrCat("upgrade refused: ", c.in.substr(0, c.in.find("\r\n"))));
        return Close(i, wsgate::bench::UpgradeCause(c.in.substr(0, end), status_101));
      }
      c.in.erase(0, end + 4);
      OnOpen(i);
      if (c.state != Conn::kOpen) return;
    }
    // Echoed frames.
    size_t pos = 0;
    while (true) {
      ws::FrameHeader h;
      int hl = ws::ParseFrameHeader(reinterpret_cast<const uint8_t*>(c.in.data()) + pos, c.in.size() - pos, &h);
      if (hl <= 0 || c.in.size() - pos < static_cast<size_t>(hl) + h.payload_length) break;
      int64_t stamp = ws::IsControl(h.opcode) ? -1 : ReadStamp(c.in.data() + pos + hl, h.payload_length);
      if (stamp >= 0) {
        if (Measuring()) {
          ++totals_.messages;
          totals_.bytes += h.payload_length;
          totals_.latency.Record(NowNs() - stamp);
        }
        if (o_.mode == "closed") SendMessage(i, NowNs());
      }
      pos += static_cast<size_t>(hl) + h.payload_length;
    }
    c.in.erase(0, pos);
  }

  const Options& o_;
  const Target& t_;
  std::vector<Conn> conns_;
  int index_;
  Ring ring_;
  std::shared_ptr<tls::ClientTlsContext> tls_ctx_;
  std::string payload_;
  int64_t measure_from_ = 0, interval_ns_ = 0;
  std::mt19937 rng_{std::random_device{}()};
  int errors_printed_ = 0;
  Totals totals_;
};

absl::StatusOr<Target> ParseUrl(const std::string& url) {
  Target t;
  std::string rest;
  if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else if (url.rfind("wss://", 0) == 0) {
    t.tls = true;
    rest = url.substr(6);
  } else {
    return absl::InvalidArgumentError("--url: must start with ws:// or wss://");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  std::string port = colon == std::string::npos ? (t.tls ? "443" : "80") : authority.substr(colon + 1);
  t.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  t.host_header = authority;
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(t.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("--url: cannot resolve ", t.host));
  std::memcpy(&t.addr, res->ai_addr, res->ai_addrlen);
  t.addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  return t;
}

}  // namespace

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
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (int64_t t = 0; t < o.threads; ++t) {
    int64_t n = o.conns / o.threads + (t < o.conns % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, *target, static_cast<int>(n), static_cast<int>(t)));
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

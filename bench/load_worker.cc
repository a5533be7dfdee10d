// File: bench/load_worker.cc — the load worker (load_worker.h): connections on one io_uring,
// the upgrade (ws or wss), stamped messages in closed or open loop, handshake and idle modes.
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
#include "bench/load_worker.h"
#include "bench/bench_stats.h"
#include "engine/common/base64.h"
#include "engine/common/flags.h"
#include "engine/common/log_format.h"
#include "engine/io/uring.h"
#include "engine/tls/tls.h"
#include "engine/ws/frame.h"
#include "engine/ws/handshake.h"

namespace wsgate::bench {
namespace {

using Ring = wsgate::engine::io::Uring;
using wsgate::common::LogLevel;
using wsgate::engine::io::Tag;
namespace ws = wsgate::engine::ws;
namespace tls = wsgate::engine::tls;

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

class Worker final : public LoadWorker {
 public:
  Worker(const Options& o, const Target& t, int conns, int thread_index)
      : o_(o), t_(t), conns_(static_cast<size_t>(conns)), index_(thread_index) {}

  void Run(int64_t start_ns, int64_t measure_from_ns, int64_t end_ns) override {
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
      if (o_.tls_resume) tls_ctx_->EnableResumption();
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

  const Totals& totals() const override { return totals_; }
  int open_connections() const override {
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
      if (c.tls && c.tls->resumed()) ++totals_.resumed;
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

}  // namespace

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

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

std::unique_ptr<LoadWorker> NewLoadWorker(const Options& o, const Target& t, int conns, int thread_index) {
  return std::make_unique<Worker>(o, t, conns, thread_index);
}

}  // namespace wsgate::bench

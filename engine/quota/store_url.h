// File: engine/quota/store_url.h
//
// `--quota-store` and its companion flags, parsed and checked (main.cc and --check-config use
// the same function, so both say the same thing about a bad value). Pure.
//
//   local                        every engine counts on its own (the default)
//   redis://HOST:PORT[/DB]       Redis over TCP (PORT defaults to 6379, DB to 0)
//   unix:///PATH[?db=N]          Redis over a Unix socket
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/throttle/cluster.h"

namespace wsgate::engine::quota {

enum class Fallback : uint8_t { kLocal, kOpen, kClosed };

struct StoreAddress {
  enum Kind : uint8_t { kLocalOnly, kTcp, kUnix } kind = kLocalOnly;
  std::string host;  // kTcp
  int port = 6379;   // kTcp
  std::string path;  // kUnix
  int db = 0;
  std::string Describe() const;
};

// INVALID_ARGUMENT whose message starts with "--quota-store: ".
absl::StatusOr<StoreAddress> ParseStoreAddress(std::string_view text);
// "fail-local" | "fail-open" | "fail-closed"; INVALID_ARGUMENT naming --quota-fallback.
absl::StatusOr<Fallback> ParseFallback(std::string_view text);
throttle::QuotaMode FallbackMode(Fallback f);

// Everything the quota flags say, checked together.
struct QuotaOptions {
  StoreAddress store;  // kLocalOnly: no cluster quota
  Fallback fallback = Fallback::kLocal;
  throttle::LeaseParams lease;
  int64_t connect_timeout_ms = 200;  // connect and each command
  int64_t max_backoff_ms = 5000;     // retries while the store is down: 100 ms doubling to this
  int64_t health_interval_ms = 1000; // an idle engine pings the store this often
};

struct QuotaFlags {
  std::string store = "local";
  std::string fallback = "fail-local";
  int64_t engines = 1;
  int64_t max_lease = 100;
  int64_t timeout_ms = 200;
};
// INVALID_ARGUMENT naming the flag.
absl::StatusOr<QuotaOptions> CompileQuotaFlags(const QuotaFlags& flags);

}  // namespace wsgate::engine::quota

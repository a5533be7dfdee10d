// File: engine/server/access_log.h
//
// The JSON access log: one line per connection when it ends (and, with log_open, one when its
// relay starts), written by its own thread so a shard never waits on a disk.
//
//   AccessLog log({.path = "/var/log/wsgate/access.log", .engine_id = id});
//   WSGATE_RETURN_IF_ERROR(log.Start());
//   log.Submit(std::move(record));   // shard thread: false when the queue is full (dropped)
//   log.Reopen();                    // SIGHUP/SIGUSR1, after logrotate moved the file
//
// The queue is bounded (`capacity` records): a shard that finds it full drops the record and
// counts it (ShardStats::access_log_dropped, metric wsgate_engine_access_log_dropped_total).
// Submit takes a mutex once per connection event, never per message. A line never holds a token:
// the request's path and query are not logged, only the topic template that matched.
//
// Thread-safe: Submit and Reopen from any thread; Start/Stop from the owner.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "engine/server/stats.h"

namespace wsgate::engine::server {

struct AccessRecord {
  bool open = false;          // true: the relay started; false: the connection ended
  int64_t time_unix_ms = 0;   // when it happened (wall clock)
  uint64_t conn_id = 0;       // ConnInfo::id
  int shard = 0;
  std::string client_address, vhost, api, api_version, topic;
  std::string application_id, subscription_id, key_type, subprotocol;
  int status = 0;  // 101, the HTTP status of a refused upgrade, or 0 (no complete request)
  uint16_t client_close_code = 0, backend_close_code = 0, close_code_to_client = 0;
  std::string closed_by;  // "client", "backend", "engine" or ""
  DirectionCounters to_backend, to_client;
  int64_t duration_ms = 0;
};

// "2026-12-01T12:00:00.123Z".
std::string Rfc3339Ms(int64_t unix_ms);
// The printable connection id, unique across engines and restarts: "<engine id>-<id in hex>".
std::string FormatConnId(std::string_view engine_id, uint64_t conn_id);
// One JSON object on one line, ending in '\n'. Fields with no value (an empty string, a zero
// close code) are left out, except `status`.
std::string FormatAccessLine(const AccessRecord& r, std::string_view engine_id);

struct AccessLogOptions {
  std::string path;  // a file (appended to, created 0640) or "-" for stdout
  std::string engine_id;
  bool log_open = false;   // also a line when a relay starts (--access-log-open)
  size_t capacity = 65536;  // records waiting for the writer
};

class AccessLog {
 public:
  explicit AccessLog(AccessLogOptions options);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Opens the file (an error names --access-log) and starts the writer thread.
  absl::Status Start();
  // Writes what is queued, then ends the writer.
  void Stop();
  bool log_open() const { return options_.log_open; }
  // False when the queue is full: the record is dropped (the caller counts it).
  bool Submit(AccessRecord record);
  // Reopens the file at its path at the writer's next turn (a no-op for stdout).
  void Reopen();

 private:
  void Run();
  absl::Status OpenFile();

  AccessLogOptions options_;
  FILE* file_ = nullptr;  // the writer's (and Start's, before the thread runs)
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<AccessRecord> queue_ ABSL_GUARDED_BY(mu_);
  bool reopen_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace wsgate::engine::server

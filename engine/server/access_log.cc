// File: engine/server/access_log.cc
//
// JSON through nlohmann-json (header-only; STYLE.md: no hand-written JSON writers), on the
// writer thread only: the shards hand over plain records.
#include "engine/server/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/absl_compat.h"
#include "engine/common/log.h"
#include "nlohmann/json.hpp"

namespace wsgate::engine::server {

using common::Sv;

std::string Rfc3339Ms(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm utc{};
  gmtime_r(&secs, &utc);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                         utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
}

std::string FormatConnId(std::string_view engine_id, uint64_t conn_id) {
  return absl::StrCat(Sv(engine_id), "-", absl::Hex(conn_id));
}

std::string FormatAccessLine(const AccessRecord& r, std::string_view engine_id) {
  nlohmann::ordered_json j;
  j["time"] = Rfc3339Ms(r.time_unix_ms);
  j["event"] = r.open ? "open" : "close";
  j["conn_id"] = FormatConnId(engine_id, r.conn_id);
  j["engine"] = std::string(engine_id);
  j["shard"] = r.shard;
  auto put = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  put("client_address", r.client_address);
  put("vhost", r.vhost);
  put("api", r.api);
  put("api_version", r.api_version);
  put("topic", r.topic);
  put("application_id", r.application_id);
  put("subscription_id", r.subscription_id);
  put("key_type", r.key_type);
  put("subprotocol", r.subprotocol);
  j["status"] = r.status;
  if (!r.open && r.status == 101) {
    auto code = [&j](const char* key, uint16_t value) {
      if (value != 0) j[key] = value;
    };
    code("client_close_code", r.client_close_code);
    code("backend_close_code", r.backend_close_code);
    code("close_code_to_client", r.close_code_to_client);
    put("closed_by", r.closed_by);
    j["frames_to_backend"] = r.to_backend.frames;
    j["bytes_to_backend"] = r.to_backend.bytes;
    j["frames_to_client"] = r.to_client.frames;
    j["bytes_to_client"] = r.to_client.bytes;
    j["throttled_frames"] = r.to_backend.throttled_frames + r.to_client.throttled_frames;
    // Dropped because the topic does not take this direction (subscribe- or publish-only).
    j["denied_frames"] = r.to_backend.denied_frames + r.to_client.denied_frames;
  }
  if (!r.open) j["duration_ms"] = r.duration_ms;
  // Invalid UTF-8 (a Host header is client text) is replaced, never thrown about.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

AccessLog::AccessLog(AccessLogOptions options) : options_(std::move(options)) {}

AccessLog::~AccessLog() { Stop(); }

absl::Status AccessLog::OpenFile() {
  if (options_.path == "-") {
    file_ = stdout;
    return absl::OkStatus();
  }
  int fd = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return absl::InvalidArgumentError(absl::StrCat("--access-log ", options_.path, ": ", strerror(errno)));
  file_ = fdopen(fd, "a");
  if (file_ == nullptr) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("--access-log ", options_.path, ": fdopen: ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status AccessLog::Start() {
  if (absl::Status s = OpenFile(); !s.ok()) return s;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void AccessLog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (file_ != nullptr && file_ != stdout) fclose(file_);
  file_ = nullptr;
}

bool AccessLog::Submit(AccessRecord record) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.capacity || stop_) return false;
    queue_.push_back(std::move(record));
  }
  cv_.notify_one();
  return true;
}

void AccessLog::Reopen() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reopen_ = true;
  }
  cv_.notify_one();
}

void AccessLog::Run() {
  std::deque<AccessRecord> batch;
  while (true) {
    bool reopen, stop;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return stop_ || reopen_ || !queue_.empty(); });
      batch.swap(queue_);
      reopen = reopen_;
      reopen_ = false;
      stop = stop_;
    }
    for (const AccessRecord& r : batch) {
      std::string line = FormatAccessLine(r, options_.engine_id);
      fwrite(line.data(), 1, line.size(), file_);
    }
    batch.clear();
    fflush(file_);
    if (reopen && file_ != stdout) {
      // logrotate has moved the file: write on at a new one under the old name.
      FILE* old = file_;
      if (absl::Status s = OpenFile(); !s.ok()) {
        file_ = old;  // keep writing where we were rather than lose lines
        WSGATE_LOG(kError, "access log: reopen failed, still writing to the old file: %s", std::string(s.message()));
      } else {
        fclose(old);
        WSGATE_LOG(kInfo, "access log reopened: %s", options_.path);
      }
    }
    if (stop) return;
  }
}

}  // namespace wsgate::engine::server

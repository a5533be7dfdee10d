// File: engine/quota/redis_store.cc
//
// QuotaStore on Redis through hiredis (Debian's libhiredis, no TLS, so no second TLS library in
// the engine's process). Synchronous calls with a connect and command timeout, on the quota
// thread only. The lease is one Lua script (EVALSHA of the SHA that SCRIPT LOAD returned; EVAL
// when the server answers NOSCRIPT, e.g. after a restart or SCRIPT FLUSH), so reading the
// counter, sizing the lease, adding it and setting the expiry is atomic in Redis.
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/quota/quota_client.h"

namespace wsgate::engine::quota {
namespace {

// KEYS[1]: the window's counter. ARGV: limit, engines, k, max_lease, debt, ttl_s.
// Returns {granted, remaining after the grant}. LeaseSize (throttle/cluster.cc) is the same rule.
constexpr char kLeaseScript[] = R"lua(
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local remaining = limit - used
if remaining <= 0 then return {0, 0} end
local size = math.ceil(remaining / (tonumber(ARGV[3]) * tonumber(ARGV[2])))
if size < 1 then size = 1 end
if size > tonumber(ARGV[4]) then size = tonumber(ARGV[4]) end
local grant = size + tonumber(ARGV[5])
if grant > remaining then grant = remaining end
used = redis.call('INCRBY', KEYS[1], grant)
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[6]) end
return {grant, limit - used}
)lua";

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisStore final : public QuotaStore {
 public:
  RedisStore(const StoreAddress& address, int64_t timeout_ms) : address_(address), timeout_ms_(timeout_ms) {}
  ~RedisStore() override { Disconnect(); }

  absl::StatusOr<TakeResult> Take(const TakeRequest& req) override {
    if (absl::Status s = Connect(); !s.ok()) return s;
    std::vector<std::string> args = {sha_.empty() ? "EVAL" : "EVALSHA", sha_.empty() ? kLeaseScript : sha_, "1",
                                     req.key, absl::StrCat(req.limit), absl::StrCat(req.params.engines),
                                     absl::StrCat(req.params.divisor), absl::StrCat(req.params.max_lease),
                                     absl::StrCat(req.debt), absl::StrCat(req.ttl_s)};
    auto reply = Command(args);
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR && absl::StartsWith((*reply)->str, "NOSCRIPT")) {
      args[0] = "EVAL";
      args[1] = kLeaseScript;
      sha_.clear();
      reply = Command(args);
      if (!reply.ok()) return reply.status();
    }
    const redisReply* r = reply->get();
    if (r->type == REDIS_REPLY_ERROR) return absl::InternalError(absl::StrCat("lease script: ", r->str));
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER || r->element[0]->integer < 0)
      return absl::InternalError("lease script: unexpected reply");
    TakeResult out;
    out.granted = static_cast<uint64_t>(r->element[0]->integer);
    out.remaining = r->element[1]->integer > 0 ? static_cast<uint64_t>(r->element[1]->integer) : 0;
    return out;
  }

  absl::Status Ping() override {
    if (absl::Status s = Connect(); !s.ok()) return s;
    auto reply = Command({"PING"});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) return absl::UnavailableError(absl::StrCat("PING: ", (*reply)->str));
    return absl::OkStatus();
  }

  std::string Describe() const override { return address_.Describe(); }

 private:
  absl::Status Connect() {
    if (ctx_ != nullptr) return absl::OkStatus();
    timeval tv{static_cast<time_t>(timeout_ms_ / 1000), static_cast<suseconds_t>((timeout_ms_ % 1000) * 1000)};
    ctx_ = address_.kind == StoreAddress::kUnix ? redisConnectUnixWithTimeout(address_.path.c_str(), tv)
                                                : redisConnectWithTimeout(address_.host.c_str(), address_.port, tv);
    if (ctx_ == nullptr) return absl::UnavailableError("connect: out of memory");
    if (ctx_->err != 0) {
      std::string why = absl::StrCat("connect: ", ctx_->errstr);
      Disconnect();
      return absl::UnavailableError(why);
    }
    if (redisSetTimeout(ctx_, tv) != REDIS_OK) {
      Disconnect();
      return absl::UnavailableError("cannot set the command timeout");
    }
    if (address_.db != 0) {
      auto r = Command({"SELECT", absl::StrCat(address_.db)});
      if (!r.ok()) return r.status();
      if ((*r)->type == REDIS_REPLY_ERROR) {
        std::string why = absl::StrCat("SELECT ", address_.db, ": ", (*r)->str);
        Disconnect();
        return absl::UnavailableError(why);
      }
    }
    // The script's SHA for EVALSHA; without it every call sends the script (EVAL).
    sha_.clear();
    if (auto r = Command({"SCRIPT", "LOAD", kLeaseScript}); r.ok() && (*r)->type == REDIS_REPLY_STRING)
      sha_.assign((*r)->str, (*r)->len);
    else if (!r.ok())
      return r.status();
    return absl::OkStatus();
  }

  absl::StatusOr<Reply> Command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    void* raw = redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
    if (raw == nullptr) {
      std::string why = ctx_->errstr[0] != '\0' ? ctx_->errstr : "connection lost";
      Disconnect();  // the next call reconnects
      return absl::UnavailableError(why);
    }
    return Reply(static_cast<redisReply*>(raw));
  }

  void Disconnect() {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
  }

  const StoreAddress address_;
  const int64_t timeout_ms_;
  redisContext* ctx_ = nullptr;
  std::string sha_;
};

}  // namespace

std::unique_ptr<QuotaStore> MakeStore(const StoreAddress& address, int64_t timeout_ms) {
  return std::make_unique<RedisStore>(address, timeout_ms);
}

}  // namespace wsgate::engine::quota

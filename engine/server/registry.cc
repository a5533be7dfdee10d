// File: engine/server/registry.cc
//
// The connection registry (registry.h): its pure parts, and the shard loop's side of each
// request, which runs on the shard thread (posted by Server through the mailbox).
#include "engine/server/registry.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/absl_compat.h"
#include "engine/common/status_macros.h"
#include "engine/server/loop.h"
#include "engine/server/server.h"
#include "engine/ws/frame.h"
#include "engine/ws/handshake.h"

namespace wsgate::engine::server {

using common::Sv;

namespace {
constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;
constexpr size_t kMaxCloseReasonBytes = 123;  // a close frame's payload is at most 125 bytes
}  // namespace

bool Matches(const ConnFilter& f, const ConnRecord& r) {
  if (!f.api_id.empty() && f.api_id != r.api_id) return false;
  if (!f.topic.empty() && f.topic != r.topic) return false;
  if (!f.application_id.empty() && f.application_id != r.application_id) return false;
  if (!f.subscription_id.empty() && f.subscription_id != r.subscription_id) return false;
  if (!f.client_address_prefix.empty() &&
      std::string_view(r.client_address).substr(0, f.client_address_prefix.size()) != f.client_address_prefix)
    return false;
  return true;
}

std::string FormatPageToken(const ConnCursor& cursor) { return absl::StrCat(cursor.shard, ".", cursor.slot); }

absl::StatusOr<std::optional<ConnCursor>> ParsePageToken(std::string_view token) {
  if (token.empty()) return std::optional<ConnCursor>();
  std::vector<absl::string_view> parts = absl::StrSplit(Sv(token), '.');
  ConnCursor c;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &c.shard) || !absl::SimpleAtoi(parts[1], &c.slot))
    return absl::InvalidArgumentError(absl::StrCat("page_token: '", Sv(token.substr(0, 40)),
                                                   "' is not a token this engine gave (pass next_page_token back unchanged)"));
  return std::optional<ConnCursor>(c);
}

absl::StatusOr<uint32_t> CheckPageSize(uint32_t page_size) {
  if (page_size == 0) return kDefaultPageSize;
  if (page_size > kMaxPageSize)
    return absl::InvalidArgumentError(absl::StrCat("page_size: ", page_size, " is over the maximum of ", kMaxPageSize));
  return page_size;
}

ConnPage MergePages(std::vector<std::vector<ConnRecord>> per_shard, uint32_t page_size) {
  ConnPage page;
  bool more = false;
  for (auto& shard : per_shard) {
    for (auto& r : shard) {
      if (page.connections.size() == page_size) {
        more = true;
        break;
      }
      page.connections.push_back(std::move(r));
    }
    if (more) break;
  }
  if (more) page.next_page_token = FormatPageToken({page.connections.back().shard, page.connections.back().slot});
  return page;
}

absl::Status NotHere() {
  return absl::NotFoundError("no such connection on this engine (it closed, or the id is from another engine)");
}

bool IsOperatorCloseCode(uint32_t code) { return code == 1000 || (code >= 3000 && code <= 4999); }

absl::Status CheckOperatorClose(uint32_t code, std::string_view reason) {
  if (!IsOperatorCloseCode(code))
    return absl::InvalidArgumentError(
        absl::StrCat("code: ", code, " is not a close code an operator may send (use 1000, or 3000-4999, e.g. 4000)"));
  if (reason.size() > kMaxCloseReasonBytes)
    return absl::InvalidArgumentError(absl::StrCat("reason: ", reason.size(), " bytes is over the ", kMaxCloseReasonBytes,
                                                   " a close frame can carry"));
  if (!ws::IsValidUtf8(reason)) return absl::InvalidArgumentError("reason: must be UTF-8 text");
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// The shard's side (on the shard thread)

ConnRecord Loop::RecordOf(const Conn& c) const {
  ConnRecord r;
  r.shard = static_cast<uint32_t>(options_.index);
  r.slot = c.slot;
  r.generation = c.generation;
  r.api_id = c.api_id;
  r.api_name = c.info.api_name;
  r.api_version = c.info.api_version;
  r.topic = c.info.topic;
  r.application_id = c.identity.application_id;
  r.subscription_id = c.identity.subscription_id;
  r.key_type = c.identity.key_type;
  r.client_address = c.client_ip;
  r.vhost = c.info.vhost;
  r.opened_unix_s = c.info.opened_unix_s;
  r.client_to_backend = c.info.to_backend;
  r.backend_to_client = c.info.to_client;
  return r;
}

std::vector<ConnRecord> Loop::ListConnections(const ConnFilter& filter, uint32_t from_slot, size_t limit) {
  std::vector<ConnRecord> out;
  table_.ForEach([&](Conn& c) {  // slot order
    if (out.size() >= limit || c.slot < from_slot || c.phase != Phase::kRelay) return;
    ConnRecord r = RecordOf(c);
    if (Matches(filter, r)) out.push_back(std::move(r));
  });
  return out;
}

absl::StatusOr<ConnRecord> Loop::GetConnection(const ConnRef& ref) {
  Conn* c = table_.Lookup(io::Tag{0, ref.generation, ref.slot});
  if (c == nullptr || c->phase != Phase::kRelay) return NotHere();
  return RecordOf(*c);
}

Conn* Loop::FindRelaying(const ConnRef& ref, absl::Status* error) {
  Conn* c = table_.Lookup(io::Tag{0, ref.generation, ref.slot});
  if (c == nullptr || c->phase != Phase::kRelay) {
    *error = NotHere();
    return nullptr;
  }
  const Side& client = c->client();
  if (client.close_sent || client.close_seen || client.eof || client.tls_failed) {
    *error = absl::FailedPreconditionError("the connection is closing: nothing more can be sent to it");
    return nullptr;
  }
  return c;
}

absl::StatusOr<uint64_t> Loop::SendToConnection(const ConnRef& ref, uint8_t opcode, std::string_view payload) {
  absl::Status error;
  Conn* c = FindRelaying(ref, &error);
  if (c == nullptr) return error;
  Outbound& out = c->client().out;
  size_t waiting = Weight(out);
  for (const std::string& f : out.pending) waiting += f.size();
  size_t bound = snapshot_->settings.queue_bytes;
  if (waiting > bound) {
    ++stats_.registry_sends_refused;
    return absl::ResourceExhaustedError(absl::StrCat(
        "the client is not reading: ", waiting, " bytes wait in its outbound queue, over the bound of ", bound,
        " (settings.queue_bytes); the frame was not queued, retry later"));
  }
  ++stats_.registry_sends;
  Inject(*c, SideId::kClient, ws::EncodeFrame(opcode, payload));  // unmasked: toward a client
  CheckBackpressure(*c, SideId::kClient);
  uint64_t queued = out.queued;
  for (const std::string& f : out.pending) queued += f.size();
  Settle(*c);
  return queued;
}

absl::Status Loop::CloseConnection(const ConnRef& ref, uint16_t code, std::string_view reason) {
  absl::Status error;
  Conn* c = FindRelaying(ref, &error);
  if (c == nullptr) return error;
  ++stats_.registry_closes;
  SendClose(*c, SideId::kClient, code, reason);
  SendClose(*c, SideId::kBackend, 1001, "closed by the gateway operator");
  Settle(*c);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Server's side (any thread): post to the owning shard, wait for its answer.

namespace {

// Runs fn on `shard`'s loop and waits for its result. The promise is shared, so a shard that
// answers after the wait gave up writes into memory that still exists.
template <typename T, typename Fn>
absl::StatusOr<T> AskShard(Shard& shard, Fn fn) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<T>>>();
  std::future<absl::StatusOr<T>> answer = promise->get_future();
  shard.Post([promise, fn = std::move(fn)](Shard& s) { promise->set_value(fn(s.loop())); });
  if (answer.wait_for(std::chrono::seconds(2)) != std::future_status::ready)
    return absl::UnavailableError("a shard did not answer within 2 s (the engine is shutting down)");
  return answer.get();
}

}  // namespace

absl::StatusOr<ConnPage> Server::ListConnections(const ConnFilter& filter, std::string_view page_token,
                                                  uint32_t page_size) {
  absl::StatusOr<uint32_t> size = CheckPageSize(page_size);
  if (!size.ok()) return size.status();
  absl::StatusOr<std::optional<ConnCursor>> cursor = ParsePageToken(page_token);
  if (!cursor.ok()) return cursor.status();
  std::vector<std::vector<ConnRecord>> per_shard;
  for (size_t i = 0; i < shards_.size(); ++i) {
    uint32_t from_slot = 0;
    if (*cursor) {
      if (i < (*cursor)->shard) continue;
      if (i == (*cursor)->shard) from_slot = (*cursor)->slot + 1;
    }
    auto part = AskShard<std::vector<ConnRecord>>(*shards_[i], [filter, from_slot, limit = *size + 1](Loop& loop) {
      return absl::StatusOr<std::vector<ConnRecord>>(loop.ListConnections(filter, from_slot, limit));
    });
    if (!part.ok()) return part.status();
    per_shard.push_back(*std::move(part));
  }
  return MergePages(std::move(per_shard), *size);
}

absl::StatusOr<ConnRecord> Server::GetConnection(const ConnRef& ref) {
  if (ref.shard >= shards_.size()) return NotHere();
  return AskShard<ConnRecord>(*shards_[ref.shard], [ref](Loop& loop) { return loop.GetConnection(ref); });
}

absl::StatusOr<uint64_t> Server::SendToConnection(const ConnRef& ref, bool binary, std::string payload) {
  uint64_t max_bytes;
  {
    std::lock_guard<std::mutex> lock(apply_mu_);
    max_bytes = current_->settings.max_message_bytes;
  }
  if (payload.size() > max_bytes)
    return absl::InvalidArgumentError(absl::StrCat("payload: ", payload.size(), " bytes is over max_message_bytes (",
                                                   max_bytes, ")"));
  if (!binary && !ws::IsValidUtf8(payload))
    return absl::InvalidArgumentError("text: must be UTF-8 (send bytes as a binary frame instead)");
  if (ref.shard >= shards_.size()) return NotHere();
  uint8_t opcode = binary ? ws::kBinary : ws::kText;
  return AskShard<uint64_t>(*shards_[ref.shard], [ref, opcode, payload = std::move(payload)](Loop& loop) {
    return loop.SendToConnection(ref, opcode, payload);
  });
}

absl::Status Server::CloseConnection(const ConnRef& ref, uint32_t code, std::string reason) {
  if (code == 0) code = 1000;
  WSGATE_RETURN_IF_ERROR(CheckOperatorClose(code, reason));
  if (ref.shard >= shards_.size()) return NotHere();
  return AskShard<bool>(*shards_[ref.shard], [ref, code, reason = std::move(reason)](Loop& loop) -> absl::StatusOr<bool> {
           absl::Status s = loop.CloseConnection(ref, static_cast<uint16_t>(code), reason);
           if (!s.ok()) return s;
           return true;
         }).status();
}

}  // namespace wsgate::engine::server

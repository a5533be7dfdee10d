// File: engine/server/conn_info.cc
//
// The loop's operations hooks (issue 13): close bookkeeping for the access log and the
// closes-by-side metric, the access-log record, and gauges computed at collection time.
#include <chrono>

#include "engine/server/access_log.h"
#include "engine/server/loop.h"

namespace wsgate::engine::server {

void Loop::NoteClose(Conn& c, SideId from, uint16_t code) {
  uint16_t& mine = from == SideId::kClient ? c.info.client_close_code : c.info.backend_close_code;
  if (mine == 0) mine = code;
  if (c.info.first_closer == Closer::kNone)
    c.info.first_closer = from == SideId::kClient ? Closer::kClient : Closer::kBackend;
}

void Loop::LogAccess(const Conn& c, bool open) {
  AccessRecord r;
  r.open = open;
  r.time_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  r.conn_id = c.info.id;
  r.shard = options_.index;
  r.client_address = c.client_ip;
  r.vhost = c.info.vhost;
  r.api = c.info.api_name;
  r.api_version = c.info.api_version;
  r.topic = c.info.topic;
  r.application_id = c.identity.application_id;
  r.subscription_id = c.identity.subscription_id;
  if (!c.identity.client_id.empty() || !c.identity.api_key_sha256.empty()) r.key_type = v1::KeyType_Name(c.identity.key_type);
  r.subprotocol = c.info.subprotocol;
  r.status = c.info.http_status;
  r.client_close_code = c.info.client_close_code;
  r.backend_close_code = c.info.backend_close_code;
  r.close_code_to_client = c.info.close_code_to_client;
  if (c.info.first_closer != Closer::kNone) r.closed_by = Name(c.info.first_closer);
  r.to_backend = c.info.to_backend;
  r.to_client = c.info.to_client;
  r.duration_ms = now_ms_ - c.info.accepted_ms;
  if (!access_log_->Submit(std::move(r))) ++stats_.access_log_dropped;
}

void Loop::AddGauges(ShardStats& s) const {
  uint64_t queued = 0;
  table_.ForEach([&](const Conn& c) {
    if (c.phase == Phase::kFree) return;
    for (const Side& side : c.sides) queued += side.out.queued;
  });
  s.queued_bytes = queued;
}

}  // namespace wsgate::engine::server

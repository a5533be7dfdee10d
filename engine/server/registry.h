// File: engine/server/registry.h
//
// The connection registry: list the relaying connections of an engine, send one of them a frame,
// close one (the control API's ListConnections / SendToConnection / CloseConnection). Every
// request is answered by the shard that owns the connection, on its own loop (posted through its
// mailbox like snapshot swaps), never by reading shard memory from another thread.
//
// Listing pages through connections in (shard, slot) order; a page token is the position of the
// last connection of the previous page ("<shard>.<slot>"), so a page is stable while connections
// come and go (a new one in an earlier slot is simply not seen by this walk).
//
//   ConnFilter filter{.api_id = "chats-1"};
//   auto page = server.ListConnections(filter, /*page_token=*/"", /*page_size=*/100);
//   server.SendToConnection(ref, ws::kText, "hello");    // RESOURCE_EXHAUSTED if not reading
//   server.CloseConnection(ref, 4000, "bye");            // client gets 4000, backend 1001
//
// The pure parts (filters, tokens, merging shard answers) are free functions, tested alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/server/stats.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::server {

// Empty fields match everything; all set fields must match.
struct ConnFilter {
  std::string api_id;                 // exact
  std::string topic;                  // topic template, exact
  std::string application_id;         // exact
  std::string subscription_id;        // exact
  std::string client_address_prefix;  // prefix of the client's IP text
};

// A copy of one relaying connection's facts, made on its shard.
struct ConnRecord {
  uint32_t shard = 0, slot = 0, generation = 0;
  std::string api_id, api_name, api_version, topic, application_id, subscription_id;
  v1::KeyType key_type = v1::PRODUCTION;
  std::string client_address, vhost;
  int64_t opened_unix_s = 0;
  DirectionCounters client_to_backend, backend_to_client;
};

bool Matches(const ConnFilter& filter, const ConnRecord& record);

// Where a page starts: after (shard, slot). Absent: from the beginning.
struct ConnCursor {
  uint32_t shard = 0;
  uint32_t slot = 0;
};
std::string FormatPageToken(const ConnCursor& cursor);
// "" → nullopt (the first page). INVALID_ARGUMENT naming page_token when malformed.
absl::StatusOr<std::optional<ConnCursor>> ParsePageToken(std::string_view token);

// page_size 0 means 100; more than 1000 is INVALID_ARGUMENT.
absl::StatusOr<uint32_t> CheckPageSize(uint32_t page_size);

struct ConnPage {
  std::vector<ConnRecord> connections;
  std::string next_page_token;  // "": no more
};
// Joins the shards' answers (each in slot order, each already after the cursor, each at most
// page_size + 1 long, in shard order) into one page of at most page_size.
ConnPage MergePages(std::vector<std::vector<ConnRecord>> per_shard, uint32_t page_size);

// Where a connection is, from its id (engine/common/conn_id.h).
struct ConnRef {
  uint32_t shard = 0, slot = 0, generation = 0;
};

// NOT_FOUND for an id that names no relaying connection here.
absl::Status NotHere();

// Close codes an operator may send: 1000 (normal) or 3000-4999 (registered/private); the rest
// are reserved for the protocol or mean a failure the operator did not cause.
bool IsOperatorCloseCode(uint32_t code);
// The whole check of an operator close: the code, and a reason that fits a close frame (UTF-8, at
// most 123 bytes). INVALID_ARGUMENT naming the field.
absl::Status CheckOperatorClose(uint32_t code, std::string_view reason);

}  // namespace wsgate::engine::server

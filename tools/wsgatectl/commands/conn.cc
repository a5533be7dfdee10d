// File: tools/wsgatectl/commands/conn.cc — `wsgatectl conn ...`: the live connections of every
// engine (the connection registry): list them with filters, show one, send one a message, close
// one with a code and reason.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

std::string Opened(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

// One line per connection: what an operator looks for first.
std::string Line(const v1::AdminConnection& ac) {
  const v1::ConnectionInfo& c = ac.connection();
  return absl::StrCat(c.id(), "\t", c.api_name(), ":", c.api_version(), "\t", c.topic(), "\tapp ", c.application_id(),
                      "\t", c.client_address(), "\topened ", Opened(c.opened_unix_ms()), "\tframes in/out ",
                      c.client_to_backend().frames(), "/", c.backend_to_client().frames(), "\tthrottled ",
                      c.client_to_backend().throttled_frames() + c.backend_to_client().throttled_frames(), "\t",
                      ac.engine(), "\n");
}

struct ListFlags {
  std::string api, app, topic, subscription, environment, engine, client;
  int64_t limit = 1000;
  void Register(common::FlagParser& f) {
    f.AddString("api", &api, "only this API (id or Name:Version)", "API");
    f.AddString("app", &app, "only this application (id or name)", "APP");
    f.AddString("topic", &topic, "only this topic template, e.g. /rooms/{roomID}", "TOPIC");
    f.AddString("subscription", &subscription, "only this subscription id", "ID");
    f.AddString("env", &environment, "only engines of this gateway environment", "ENV");
    f.AddString("engine", &engine, "only this engine (its target or engine id)", "ENGINE");
    f.AddString("client", &client, "only clients whose address starts with this, e.g. 10.1.", "PREFIX");
    f.AddInt("limit", &limit, "at most this many connections", 1, 1000000);
  }
};

absl::Status List(Ctx& ctx, const ListFlags& flags) {
  v1::AdminListConnectionsRequest req;
  v1::AdminConnectionFilter* f = req.mutable_filter();
  f->set_api(flags.api);
  f->set_application(flags.app);
  f->set_topic(flags.topic);
  f->set_subscription_id(flags.subscription);
  f->set_environment(flags.environment);
  f->set_engine(flags.engine);
  f->set_client_address_prefix(flags.client);
  v1::AdminListConnectionsResponse all;
  bool truncated = false;
  while (true) {  // every page, up to --limit
    int64_t left = flags.limit - all.connections_size();
    req.set_page_size(static_cast<uint32_t>(std::min<int64_t>(left, 1000)));
    v1::AdminListConnectionsResponse page;
    if (absl::Status s = Call(ctx, &Stub::ListConnections, req, page); !s.ok()) return s;
    for (auto& c : *page.mutable_connections()) *all.add_connections() = std::move(c);
    for (auto& u : *page.mutable_unreachable_engines()) *all.add_unreachable_engines() = std::move(u);
    if (page.next_page_token().empty()) break;
    if (all.connections_size() >= flags.limit) {
      truncated = true;
      all.set_next_page_token(page.next_page_token());
      break;
    }
    req.set_page_token(page.next_page_token());
  }
  std::string text = all.connections().empty() ? "No live connections match\n" : "";
  for (const auto& c : all.connections()) text += Line(c);
  if (truncated) absl::StrAppend(&text, "(stopped at --limit ", flags.limit, "; more connections match)\n");
  for (const auto& u : all.unreachable_engines()) absl::StrAppend(&text, "engine not answering: ", u, "\n");
  if (!text.empty()) text.pop_back();
  Print(ctx, all, text);
  return absl::OkStatus();
}

absl::Status Get(Ctx& ctx) {
  v1::ConnectionRef req;
  req.set_id(ctx.args[0]);
  v1::AdminConnection resp;
  if (absl::Status s = Call(ctx, &Stub::GetConnection, req, resp); !s.ok()) return s;
  const v1::ConnectionInfo& c = resp.connection();
  Print(ctx, resp,
        absl::StrCat("id ", c.id(), "\napi ", c.api_name(), ":", c.api_version(), " (", c.api_id(), ")\ntopic ",
                     c.topic(), "\napplication ", c.application_id(), "\nsubscription ", c.subscription_id(),
                     "\nkey type ", v1::KeyType_Name(c.key_type()), "\nclient ", c.client_address(), "\nvhost ",
                     c.vhost(), "\nopened ", Opened(c.opened_unix_ms()), "\nclient->backend frames ",
                     c.client_to_backend().frames(), " bytes ", c.client_to_backend().bytes(), " throttled ",
                     c.client_to_backend().throttled_frames(), " denied ",
                     c.client_to_backend().denied_frames(), "\nbackend->client frames ", c.backend_to_client().frames(),
                     " bytes ", c.backend_to_client().bytes(), " throttled ", c.backend_to_client().throttled_frames(),
                     " denied ", c.backend_to_client().denied_frames(), "\nengine ", resp.engine(), " (", c.engine_id(),
                     ") shard ", c.shard(), "\nenvironment ", resp.environment()));
  return absl::OkStatus();
}

struct SendFlags {
  bool binary = false;
  std::string file;
  void Register(common::FlagParser& f) {
    f.AddBool("binary", &binary, "send a binary frame (default: text, which must be UTF-8)");
    f.AddString("file", &file, "send this file's contents instead of MESSAGE", "PATH");
  }
};

absl::Status Send(Ctx& ctx, const SendFlags& flags) {
  std::string payload;
  if (!flags.file.empty()) {
    if (ctx.args.size() > 1) return absl::InvalidArgumentError("conn send: give MESSAGE or --file, not both");
    std::ifstream in(flags.file, std::ios::binary);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("--file: cannot read ", flags.file));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    payload = bytes.str();
  } else if (ctx.args.size() == 2) {
    payload = ctx.args[1];
  } else {
    return absl::InvalidArgumentError("conn send: give the MESSAGE to send (or --file PATH)");
  }
  v1::AdminSendRequest req;
  req.set_id(ctx.args[0]);
  if (flags.binary) req.set_binary(payload);
  else req.set_text(payload);
  v1::SendToConnectionResponse resp;
  if (absl::Status s = Call(ctx, &Stub::SendToConnection, req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat("Sent ", payload.size(), " bytes (", flags.binary ? "binary" : "text", ") to ",
                                ctx.args[0]));
  return absl::OkStatus();
}

struct CloseFlags {
  int64_t code = 1000;
  std::string reason;
  void Register(common::FlagParser& f) {
    f.AddInt("code", &code, "close code to the client: 1000, or 3000-4999 (the backend gets 1001)", 0, 65535);
    f.AddString("reason", &reason, "close reason to the client (UTF-8, at most 123 bytes)", "TEXT");
  }
};

absl::Status Close(Ctx& ctx, const CloseFlags& flags) {
  v1::AdminCloseRequest req;
  req.set_id(ctx.args[0]);
  req.set_code(static_cast<uint32_t>(flags.code));
  req.set_reason(flags.reason);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::CloseConnection, req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat("Closed ", ctx.args[0], " with ", flags.code));
  return absl::OkStatus();
}

}  // namespace

void AddConnCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("conn ls",
                                 "[--api API] [--app APP] [--topic T] [--subscription ID] [--env ENV] [--engine E] "
                                 "[--client PREFIX]",
                                 "list live connections on every engine", 0, 0, &List));
  commands.push_back(MakeCommand("conn get", "ID", "show one live connection", 1, 1, &Get));
  commands.push_back(MakeCommand("conn send", "ID MESSAGE [--binary] | ID --file PATH [--binary]",
                                 "send one message to a client (refused while it is not reading)", 1, 2, &Send));
  commands.push_back(MakeCommand("conn close", "ID [--code 4000] [--reason TEXT]",
                                 "close a client connection with a code and reason", 1, 1, &Close));
}

}  // namespace wsgate::tools::ctl

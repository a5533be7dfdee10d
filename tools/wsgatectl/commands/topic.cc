// File: tools/wsgatectl/commands/topic.cc — `wsgatectl topic ...`: an API's topics and their
// URL mappings onto the backend.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

struct AddFlags {
  std::string mapping;
  std::vector<std::string> scopes;
  bool unsecured = false;
  std::string direction = "both";
  void Register(common::FlagParser& f) {
    f.AddString("direction", &direction,
                "both (default), publish (client -> backend only) or subscribe (backend -> client only)",
                "both|publish|subscribe");
    f.AddString("mapping", &mapping, "appended to the endpoint URL; {uri.var.NAME} takes {NAME}", "URL_MAPPING");
    f.AddList("scope", &scopes, "a scope that may open this topic", "SCOPE");
    f.AddBool("unsecured", &unsecured, "no token needed for this topic");
  }
};

absl::Status Add(Ctx& ctx, const AddFlags& flags) {
  if (flags.direction != "both" && flags.direction != "publish" && flags.direction != "subscribe")
    return absl::InvalidArgumentError(
        absl::StrCat("--direction: '", flags.direction, "' is not one of both, publish, subscribe"));
  v1::AddTopicRequest req;
  req.set_api(ctx.args[0]);
  v1::Topic* t = req.mutable_topic();
  t->set_name(ctx.args[1]);
  t->set_url_mapping(flags.mapping);
  t->set_publish(flags.direction != "subscribe");
  t->set_subscribe(flags.direction != "publish");
  t->set_unsecured(flags.unsecured);
  for (const auto& s : flags.scopes) t->add_scopes(s);
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::AddTopic, req, resp); !s.ok()) return s;
  Print(ctx, resp,
        absl::StrCat("Added topic ", ctx.args[1], flags.mapping.empty() ? "" : "  ->  " + flags.mapping, " to ", ctx.args[0]));
  return absl::OkStatus();
}

absl::Status Delete(Ctx& ctx) {
  v1::DeleteTopicRequest req;
  req.set_api(ctx.args[0]);
  req.set_topic(ctx.args[1]);
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteTopic, req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat("Deleted topic ", ctx.args[1], " from ", ctx.args[0]));
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ApiRef req;
  req.set_api(ctx.args[0]);
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::GetApi, req, resp); !s.ok()) return s;
  std::string text;
  for (const auto& t : resp.spec().topics()) {
    const char* direction = t.publish() == t.subscribe() ? "" : t.publish() ? "\t(publish only)" : "\t(subscribe only)";
    absl::StrAppend(&text, t.name(), t.url_mapping().empty() ? "" : "\t" + t.url_mapping(), direction, "\n");
  }
  Print(ctx, resp.spec(), text.empty() ? "no topics" : text);  // JSON: the spec, topics and all
  return absl::OkStatus();
}

}  // namespace

void AddTopicCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("topic add", "API TOPIC [--mapping URL_MAPPING] [--direction both|publish|subscribe]",
                                 "add a topic, e.g. '/rooms/{roomID}' --mapping '/rooms?room={uri.var.roomID}'", 2, 2, &Add));
  commands.push_back(MakeCommand("topic delete", "API TOPIC", "delete a topic (the default one is '/*')", 2, 2, &Delete));
  commands.push_back(MakeCommand("topic list", "API", "list an API's topics", 1, 1, &List));
}

}  // namespace wsgate::tools::ctl
